import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from './errors';
import { sendProblem } from './http/problem';
import type { Logger } from './logger';

/**
 * Graceful shutdown, in three steps after SIGTERM or SIGINT:
 * 1. draining: /readyz answers 503 at once, so the load balancer (or the
 *    Kubernetes endpoints controller) stops sending traffic; requests that
 *    still arrive during the grace period are served, because the balancer
 *    takes a few seconds to notice;
 * 2. refusing: after the grace period new requests get 503 with
 *    `Connection: close`, and every drain hook runs (the download job manager
 *    registers one to checkpoint its jobs);
 * 3. the in-flight requests (long object streams) and the hooks get until the
 *    drain time, counted from the signal; then server.ts closes what is left
 *    and exits 0.
 * The health, readiness and metrics endpoints are never refused: an operator
 * watches the drain through them.
 */

/** Registered by components with work to finish or checkpoint; `deadline` aborts when the drain time runs out. */
export type DrainHook = (deadline: AbortSignal) => Promise<void>;

export type LifecyclePhase = 'serving' | 'draining' | 'refusing';

/** Starts a timer; returns a function that cancels it. Injected so tests move time instead of sleeping. */
export type Schedule = (ms: number, fn: () => void) => () => void;

export const realSchedule: Schedule = (ms, fn) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export interface LifecycleOptions {
  graceMs: number;
  drainMs: number;
  logger?: Logger;
  schedule?: Schedule;
}

export interface DrainResult {
  /** Every in-flight request and drain hook finished before the drain time ran out. */
  drained: boolean;
  /** Requests still in flight when the drain ended (server.ts cuts them). */
  inFlight: number;
}

const NEVER_REFUSED = new Set(['/healthz', '/readyz', '/metrics']);

export class Lifecycle {
  private current: LifecyclePhase = 'serving';
  private readonly hooks: { name: string; hook: DrainHook }[] = [];
  private inFlightCount = 0;
  private readonly idleWaiters = new Set<() => void>();
  private shutdownPromise: Promise<DrainResult> | null = null;
  private readonly schedule: Schedule;

  constructor(private readonly options: LifecycleOptions = { graceMs: 0, drainMs: 0 }) {
    this.schedule = options.schedule ?? realSchedule;
  }

  get phase(): LifecyclePhase {
    return this.current;
  }

  /** True from the signal on: /readyz answers 503. */
  get draining(): boolean {
    return this.current !== 'serving';
  }

  /** Requests being answered right now (object streams included). */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Register work to finish or checkpoint on shutdown (e.g. `lifecycle.onDrain(() => jobs.drain(), 'download jobs')`). */
  onDrain(hook: DrainHook, name = 'drain hook'): void {
    this.hooks.push({ name, hook });
  }

  /** Counts requests in flight, and refuses new ones once the grace period is over. Mount it first. */
  readonly middleware: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (this.current !== 'serving') res.setHeader('Connection', 'close'); // move keep-alive callers elsewhere
    if (this.current === 'refusing' && !NEVER_REFUSED.has(req.path)) {
      sendProblem(req, res, new AppError('NotReady', 'The service is shutting down; retry on another instance.'));
      return;
    }
    this.inFlightCount += 1;
    res.once('close', this.requestClosed);
    next();
  };

  /** One listener for every request, not a closure per request. */
  private readonly requestClosed = (): void => {
    this.inFlightCount -= 1;
    if (this.inFlightCount === 0) for (const wake of [...this.idleWaiters]) wake();
  };

  /** Runs the shutdown once; later calls return the same promise. */
  shutdown(): Promise<DrainResult> {
    this.shutdownPromise ??= this.runShutdown();
    return this.shutdownPromise;
  }

  private async runShutdown(): Promise<DrainResult> {
    const { graceMs, drainMs, logger } = this.options;
    this.current = 'draining';
    const deadline = new AbortController();
    const cancelDeadline = this.schedule(drainMs, () => deadline.abort());
    logger?.info({ graceMs, drainMs, inFlight: this.inFlightCount }, 'draining: /readyz answers 503');

    await this.until(graceMs, deadline.signal);
    this.current = 'refusing';
    logger?.info({ inFlight: this.inFlightCount, drainHooks: this.hooks.length }, 'refusing new requests');

    const hooks = Promise.all(this.hooks.map(({ name, hook }) => this.runHook(name, hook, deadline.signal)));
    const finished = Promise.all([hooks, this.idle()]).then(() => true);
    const timedOut = new Promise<false>((resolve) => deadline.signal.addEventListener('abort', () => resolve(false), { once: true }));
    const drained = await Promise.race([finished, timedOut]);
    cancelDeadline();
    const result = { drained, inFlight: this.inFlightCount };
    if (drained) logger?.info(result, 'drained');
    else logger?.warn(result, 'drain time over: cutting what is left');
    return result;
  }

  private async runHook(name: string, hook: DrainHook, deadline: AbortSignal): Promise<void> {
    try {
      await hook(deadline);
    } catch (err) {
      this.options.logger?.error({ hook: name, err }, 'drain hook failed');
    }
  }

  private idle(): Promise<void> {
    if (this.inFlightCount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.idleWaiters.delete(wake);
        resolve();
      };
      this.idleWaiters.add(wake);
    });
  }

  /** Waits `ms`, or less if the deadline comes first. */
  private until(ms: number, deadline: AbortSignal): Promise<void> {
    if (ms <= 0 || deadline.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.schedule(ms, resolve);
      deadline.addEventListener('abort', () => (cancel(), resolve()), { once: true });
    });
  }
}
