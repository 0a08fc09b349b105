import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { abortableSleep } from './abortable-sleep';
import type { BodyFaults, CorruptFault, CutFault, FaultKind } from './faults';
import type { ObjectContent } from './object-content';

/**
 * Streams `content[start..end]` to the response in 64 KiB chunks, reading
 * each chunk only when the previous one was accepted: a slow client holds the
 * emulator at one chunk plus socket buffers (no whole-object buffering), and a
 * client that leaves (signal aborted) stops the generator at once.
 */
export interface BodyHooks {
  onBytes(count: number): void;
  /** The response's buffer is full; the emulator waits for 'drain'. */
  onBackpressure(): void;
  /** Called before the fault acts (before the socket is destroyed for a drop). */
  onFault(kind: FaultKind): void;
}

export type BodyOutcome = 'finished' | 'aborted' | 'dropped';

const CHUNK_BYTES = 64 * 1024;

export async function sendBody(
  res: ServerResponse,
  content: ObjectContent,
  span: { start: number; end: number },
  faults: BodyFaults,
  signal: AbortSignal,
  hooks: BodyHooks,
): Promise<BodyOutcome> {
  const end = span.end + 1;
  const pacer = faults.bandwidth ? new Pacer(faults.bandwidth.bytesPerSecond) : undefined;
  let cut = faults.cut;
  let position = span.start;
  let sent = 0;
  for (;;) {
    if (signal.aborted) return 'aborted';
    if (cut !== undefined && sent === cut.afterBytes) {
      if ((await applyCut(res, cut, signal, hooks)) === 'dropped') return 'dropped';
      cut = undefined;
      pacer?.rebase(sent);
      continue;
    }
    if (position >= end) break;
    let length = Math.min(CHUNK_BYTES, end - position, pacer?.chunkBytes ?? Infinity);
    if (cut !== undefined && sent < cut.afterBytes) length = Math.min(length, cut.afterBytes - sent);
    // Pace before the write, so the last byte leaves no sooner than size / rate.
    if (pacer) await pacer.pace(sent + length, signal);
    if (signal.aborted) return 'aborted';
    const chunk = corrupted(content.read(position, length), position - span.start, faults.corrupt, hooks);
    position += length;
    sent += length;
    await write(res, chunk, cut !== undefined && sent === cut.afterBytes, signal, hooks);
    hooks.onBytes(length);
  }
  res.end();
  return 'finished';
}

/** The chunk, with the corrupt fault's byte inverted when it falls inside; a copy, never the stored bytes. */
function corrupted(chunk: Buffer, bodyOffset: number, fault: CorruptFault | undefined, hooks: BodyHooks): Buffer {
  if (fault === undefined || fault.atByte < bodyOffset || fault.atByte >= bodyOffset + chunk.length) return chunk;
  hooks.onFault('corrupt-byte');
  const copy = Buffer.from(chunk);
  copy[fault.atByte - bodyOffset] ^= 0xff;
  return copy;
}

/**
 * Writes a chunk. Before a cut the chunk must have reached the socket, or the
 * drop would discard it and the client would see fewer than `afterBytes`.
 */
async function write(res: ServerResponse, chunk: Buffer, flush: boolean, signal: AbortSignal, hooks: BodyHooks): Promise<void> {
  if (flush) {
    await untilAborted(signal, (done) => res.write(chunk, () => done()));
    return;
  }
  if (!res.write(chunk)) {
    hooks.onBackpressure();
    await untilAborted(signal, (done) => res.once('drain', done));
  }
}

async function applyCut(res: ServerResponse, cut: CutFault, signal: AbortSignal, hooks: BodyHooks): Promise<'dropped' | 'resumed'> {
  if (!res.headersSent) res.flushHeaders();
  hooks.onFault(cut.kind);
  if (cut.kind === 'drop-mid-body') {
    res.socket?.destroy();
    return 'dropped';
  }
  await abortableSleep(cut.ms, signal);
  return 'resumed';
}

/** Resolves when `start`'s callback fires or the signal aborts, whichever is first. */
function untilAborted(signal: AbortSignal, start: (done: () => void) => void): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    start(done);
  });
}

/** Keeps the average rate at `bytesPerSecond`, in chunks of about 1/20 s. */
class Pacer {
  readonly chunkBytes: number;
  private origin = performance.now();
  private originBytes = 0;

  constructor(private readonly bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bandwidth must be positive: ${bytesPerSecond}`);
    this.chunkBytes = Math.max(1, Math.min(CHUNK_BYTES, Math.floor(bytesPerSecond / 20)));
  }

  /** Waits until `total` bytes may have been sent at this rate. */
  async pace(total: number, signal: AbortSignal): Promise<void> {
    const due = this.origin + ((total - this.originBytes) * 1000) / this.bytesPerSecond;
    const wait = due - performance.now();
    if (wait > 0) await abortableSleep(wait, signal);
  }

  /** After a stall, pace from now on rather than bursting to catch up. */
  rebase(sent: number): void {
    this.origin = performance.now();
    this.originBytes = sent;
  }
}
