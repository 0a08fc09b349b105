import type { RequestHandler, Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import { callerName } from '../auth/caller-access';
import type { ConcurrencyLimiter } from '../auth/concurrency-limiter';

/**
 * Limits on object streams, in front of GET /v1/objects/{bucket}/{key}:
 * - a cap on concurrent streams for the whole process (503 Overloaded before
 *   any OSS request), so a flood of downloads cannot exhaust sockets or memory;
 * - a cap per token caller (503 Overloaded too), so one caller's slow streams
 *   cannot take every slot of the process cap from the others. Open mode has
 *   one caller, whom the process cap already bounds;
 * - a slow-client guard: a caller that reads nothing for `stallTimeoutMs`
 *   (the response stays blocked on backpressure, no 'drain') is disconnected.
 *   The pipeline then closes the OSS connection, so a caller that stops
 *   reading cannot pin an upstream connection forever. A caller that reads
 *   slowly but steadily is left alone: every 'drain' restarts the clock.
 */
export interface StreamGuardOptions {
  /** The process-wide cap (MAX_CONCURRENT_STREAMS). */
  limiter: ConcurrencyLimiter;
  /** The per-caller cap (MAX_STREAMS_PER_TOKEN), keyed by token name. */
  perCaller: ConcurrencyLimiter;
  stallTimeoutMs: number;
  registry: Registry;
  now?: () => number;
}

const OBJECT_PATH = /^\/v1\/objects\/[^/]+\/./s;

export function streamGuard(options: StreamGuardOptions): RequestHandler {
  const now = options.now ?? Date.now;
  const disconnected = new Counter({
    name: 'slow_clients_disconnected_total',
    help: 'Callers disconnected for reading nothing for CLIENT_STALL_TIMEOUT_SECONDS.',
    registers: [options.registry],
  });
  return (req, res, next) => {
    if (req.method !== 'GET' || !OBJECT_PATH.test(req.path)) return next();
    const release = acquireStream(callerName(req), options);
    const stopWatch = watchStall(res, options.stallTimeoutMs, now, () => {
      disconnected.inc();
      req.log?.warn({ stallTimeoutMs: options.stallTimeoutMs }, 'caller read nothing: disconnected');
    });
    // A streamed response already carries ten 'close' listeners (logging, metrics, pipeline):
    // this one is bounded too, not a leak.
    res.setMaxListeners(res.getMaxListeners() + 1);
    res.once('close', () => {
      release();
      stopWatch();
    });
    next();
  };
}

/** Both slots, or neither: a refusal from the process cap gives the caller's slot back. */
function acquireStream(caller: string | undefined, options: StreamGuardOptions): () => void {
  const releaseCaller = caller === undefined ? () => undefined : options.perCaller.acquire(caller);
  let releaseProcess: () => void;
  try {
    releaseProcess = options.limiter.acquire('streams');
  } catch (err) {
    releaseCaller();
    throw err;
  }
  return () => {
    releaseProcess();
    releaseCaller();
  };
}

function watchStall(res: Response, stallTimeoutMs: number, now: () => number, onStall: () => void): () => void {
  let blockedSince: number | undefined;
  const onDrain = () => (blockedSince = undefined);
  res.on('drain', onDrain);
  const timer = setInterval(
    () => {
      if (!res.writableNeedDrain) return void (blockedSince = undefined);
      blockedSince ??= now();
      if (now() - blockedSince < stallTimeoutMs) return;
      onStall();
      res.destroy();
    },
    Math.max(10, Math.min(1000, stallTimeoutMs / 4)),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    res.off('drain', onDrain);
  };
}
