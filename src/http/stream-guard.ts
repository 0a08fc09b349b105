import type { RequestHandler, Response } from 'express';
import { callerName } from '../auth/caller-access';
import type { ConcurrencyLimiter } from '../auth/concurrency-limiter';
import type { CloseHook, StreamSlot } from '../observability/request-context';

/**
 * Limits on object streams, in front of GET /v1/objects/{bucket}/{key}:
 * - a cap on concurrent streams for the whole process (503 Overloaded before
 *   any OSS request), so a flood of downloads cannot exhaust sockets or memory;
 * - a cap per token caller (503 Overloaded too), so one caller's slow streams
 *   cannot take every slot of the process cap from the others. Open mode has
 *   one caller, whom the process cap already bounds;
 * - a slow-client guard: a caller that reads nothing for `stallTimeoutMs`
 *   (the response stays blocked on backpressure and its socket sends nothing)
 *   is disconnected, and the stream then closes the OSS connection, so a caller
 *   that stops reading cannot pin an upstream connection forever. A caller
 *   that reads slowly but steadily is left alone: every byte its socket takes
 *   restarts the clock.
 *
 * The slots are released by the request context's close hook (`release`),
 * and one timer looks at every open stream, instead of a timer, a 'drain'
 * listener and a 'close' listener per stream.
 */
export interface StreamGuardOptions {
  /** The process-wide cap (MAX_CONCURRENT_STREAMS). */
  limiter: ConcurrencyLimiter;
  /** The per-caller cap (MAX_STREAMS_PER_TOKEN), keyed by token name. */
  perCaller: ConcurrencyLimiter;
  stallTimeoutMs: number;
  /** Counts a caller disconnected for reading nothing (Metrics: slow_clients_disconnected_total). */
  countDisconnected: () => void;
  now?: () => number;
}

export interface StreamGuard {
  /** Before the routes: takes the slots, or answers 503. */
  middleware: RequestHandler;
  /** A close hook: gives the slots back. */
  release: CloseHook;
}

const OBJECT_PATH = /^\/v1\/objects\/[^/]+\/./s;
const PROCESS_KEY = 'streams';

export function streamGuard(options: StreamGuardOptions): StreamGuard {
  const watch = new StallWatch(options.stallTimeoutMs, options.now ?? Date.now, (res) => {
    options.countDisconnected();
    res.req.log?.warn({ stallTimeoutMs: options.stallTimeoutMs }, 'caller read nothing: disconnected');
  });
  return {
    middleware: (req, res, next) => {
      if (req.method !== 'GET' || !OBJECT_PATH.test(req.path)) return next();
      const caller = callerName(req);
      takeSlots(caller, options);
      req.context.streamSlot = { caller, written: 0 };
      watch.add(res);
      next();
    },
    release: (ctx, _req, res) => {
      const slot = ctx.streamSlot;
      if (slot === undefined) return;
      ctx.streamSlot = undefined;
      watch.remove(res);
      options.limiter.release(PROCESS_KEY);
      if (slot.caller !== undefined) options.perCaller.release(slot.caller);
    },
  };
}

/** Both slots, or neither: a refusal from the process cap gives the caller's slot back. */
function takeSlots(caller: string | undefined, options: StreamGuardOptions): void {
  if (caller !== undefined) options.perCaller.take(caller);
  try {
    options.limiter.take(PROCESS_KEY);
  } catch (err) {
    if (caller !== undefined) options.perCaller.release(caller);
    throw err;
  }
}

/** One timer for every open stream; it runs only while there are some. */
class StallWatch {
  private readonly open = new Set<Response>();
  private timer: NodeJS.Timeout | undefined;
  private readonly everyMs: number;

  constructor(
    private readonly stallTimeoutMs: number,
    private readonly now: () => number,
    private readonly onStall: (res: Response) => void,
  ) {
    this.everyMs = Math.max(10, Math.min(1000, stallTimeoutMs / 4));
  }

  add(res: Response): void {
    this.open.add(res);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.look(), this.everyMs);
      this.timer.unref();
    }
  }

  remove(res: Response): void {
    this.open.delete(res);
    this.stopIfIdle();
  }

  private stopIfIdle(): void {
    if (this.open.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private look(): void {
    const now = this.now();
    for (const res of this.open) {
      const slot = res.req.context.streamSlot as StreamSlot;
      const written = res.socket?.bytesWritten ?? slot.written;
      if (!res.writableNeedDrain || written !== slot.written) {
        slot.written = written;
        slot.blockedSince = undefined;
        continue;
      }
      slot.blockedSince ??= now;
      if (now - slot.blockedSince < this.stallTimeoutMs) continue;
      this.open.delete(res);
      this.onStall(res);
      res.destroy();
    }
    this.stopIfIdle();
  }
}
