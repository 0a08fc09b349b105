/**
 * Faults a test arms before the request it wants to break. Each fault fires
 * on the next `times` requests (default 1) that match its bucket and key,
 * then disarms. Header-phase faults (latency, status, reset) fire on any
 * matching request, before authentication, as a network or front-end fault
 * would; body-phase faults (drop, stall, bandwidth, corrupt) fire only on a GET that
 * sends a body.
 */
export type FaultSpec =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: 500 | 503; code: 'InternalError' | 'ServiceUnavailable' }
  | { kind: 'reset-before-headers' }
  | { kind: 'drop-mid-body'; afterBytes: number }
  /** `ms` undefined: stall until the client goes away or the emulator closes. */
  | { kind: 'stall-mid-body'; afterBytes: number; ms?: number }
  | { kind: 'bandwidth'; bytesPerSecond: number }
  /** Serve the object with the byte at `atByte` of the body inverted, headers (CRC64, ETag) unchanged: corruption in transit. */
  | { kind: 'corrupt-byte'; atByte: number };

export type Fault = FaultSpec & {
  match?: { bucket?: string; key?: string };
  /** How many matching requests it fires on; Infinity for all. */
  times?: number;
};

export type FaultKind = FaultSpec['kind'];

export type HeaderFault = Extract<FaultSpec, { kind: 'latency' | 'status' | 'reset-before-headers' }>;
export type CutFault = Extract<FaultSpec, { kind: 'drop-mid-body' | 'stall-mid-body' }>;
export type BandwidthFault = Extract<FaultSpec, { kind: 'bandwidth' }>;
export type CorruptFault = Extract<FaultSpec, { kind: 'corrupt-byte' }>;

/** The body-phase faults that apply to one response. */
export interface BodyFaults {
  cut?: CutFault;
  bandwidth?: BandwidthFault;
  corrupt?: CorruptFault;
}

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

const HEADER_KINDS: ReadonlySet<FaultKind> = new Set(['latency', 'status', 'reset-before-headers']);

export class FaultInjector {
  private armed: ArmedFault[] = [];

  inject(fault: Fault): void {
    const remaining = fault.times ?? 1;
    if (!(remaining > 0)) throw new RangeError(`fault times must be positive: ${remaining}`);
    this.armed.push({ fault, remaining });
  }

  clear(): void {
    this.armed = [];
  }

  /** Every armed latency, then at most one status or reset, in the order they were armed. */
  takeHeaderFaults(bucket: string, key: string): HeaderFault[] {
    const taken: HeaderFault[] = [];
    let terminal = false;
    for (const entry of this.matching(bucket, key)) {
      if (!HEADER_KINDS.has(entry.fault.kind)) continue;
      const isTerminal = entry.fault.kind !== 'latency';
      if (isTerminal && terminal) continue;
      terminal ||= isTerminal;
      taken.push(this.consume(entry) as HeaderFault);
    }
    return taken;
  }

  takeBodyFaults(bucket: string, key: string): BodyFaults {
    const faults: BodyFaults = {};
    for (const entry of this.matching(bucket, key)) {
      const { kind } = entry.fault;
      if ((kind === 'drop-mid-body' || kind === 'stall-mid-body') && faults.cut === undefined) {
        faults.cut = this.consume(entry) as CutFault;
      } else if (kind === 'bandwidth' && faults.bandwidth === undefined) {
        faults.bandwidth = this.consume(entry) as BandwidthFault;
      } else if (kind === 'corrupt-byte' && faults.corrupt === undefined) {
        faults.corrupt = this.consume(entry) as CorruptFault;
      }
    }
    return faults;
  }

  private matching(bucket: string, key: string): ArmedFault[] {
    return this.armed.filter(({ fault }) => {
      const match = fault.match ?? {};
      return (match.bucket === undefined || match.bucket === bucket) && (match.key === undefined || match.key === key);
    });
  }

  private consume(entry: ArmedFault): FaultSpec {
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.armed = this.armed.filter((armed) => armed !== entry);
    return entry.fault;
  }
}
