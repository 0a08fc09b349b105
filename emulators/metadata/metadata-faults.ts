import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * - 'refuse': every connection is destroyed as soon as it is accepted (the client sees a reset
 *   or a socket hang-up, as when the service is down);
 * - 'http-500': every request is answered 500;
 * - 'hang': requests are read and never answered until the outage is cleared or the emulator
 *   closes (the client's own read timeout is what ends it).
 */
export type OutageMode = 'none' | 'refuse' | 'http-500' | 'hang';

const OUTAGE_MODES: readonly OutageMode[] = ['none', 'refuse', 'http-500', 'hang'];

/** What to do with one request once the fault in force has had its say. */
export interface RequestOutcomes {
  answer(): void;
  fail(): void;
  held(): void;
}

/**
 * Makes the emulated service misbehave the way a real one can, seen from the client: down,
 * failing, stuck, or slow. Latency uses real timers on purpose: it emulates wall-clock slowness
 * that the client's own (real-time) timeouts must meet.
 */
export class MetadataFaults {
  private mode: OutageMode = 'none';
  private latencyMs = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly heldRequests = new Set<() => void>();

  /** Tracks the server's sockets so 'refuse' and close() can destroy them, keep-alive ones included. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      if (this.mode === 'refuse') {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get outage(): OutageMode {
    return this.mode;
  }

  setOutage(mode: OutageMode): void {
    if (!OUTAGE_MODES.includes(mode)) throw new RangeError(`unknown outage mode: ${String(mode)}`);
    this.mode = mode;
    // A keep-alive connection opened before the outage must not slip past it.
    if (mode === 'refuse') this.destroySockets();
    if (mode !== 'hang') this.releaseHeld();
  }

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a finite number >= 0, got ${ms}`);
    this.latencyMs = ms;
  }

  /** Runs one request through the latency and outage in force. */
  admit(socket: Socket, outcomes: RequestOutcomes): void {
    if (this.latencyMs === 0) {
      this.decide(socket, outcomes);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.decide(socket, outcomes);
    }, this.latencyMs);
    this.timers.add(timer);
  }

  /** Drops held requests and pending delays and destroys every socket: for close(). */
  shutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.heldRequests.clear();
    this.destroySockets();
  }

  // The outage is read when the answer is due, not when the request arrived, so an outage set
  // during a slow answer still applies to it.
  private decide(socket: Socket, outcomes: RequestOutcomes): void {
    switch (this.mode) {
      case 'refuse':
        socket.destroy();
        return;
      case 'hang':
        this.hold(socket, outcomes);
        return;
      case 'http-500':
        outcomes.fail();
        return;
      default:
        outcomes.answer();
    }
  }

  private hold(socket: Socket, outcomes: RequestOutcomes): void {
    const release = (): void => this.decide(socket, outcomes);
    this.heldRequests.add(release);
    socket.once('close', () => this.heldRequests.delete(release));
    outcomes.held();
  }

  private releaseHeld(): void {
    const held = [...this.heldRequests];
    this.heldRequests.clear();
    for (const release of held) release();
  }

  private destroySockets(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
