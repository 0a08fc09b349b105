import { InFlightRequests } from './in-flight-requests';
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
 * What HTTP does in each phase (Connection: close, 503, counting requests) is
 * src/http/shutdown-gate.ts's; this file is the state machine and its timers.
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

export class Lifecycle {
  private current: LifecyclePhase = 'serving';
  private readonly hooks: { name: string; hook: DrainHook }[] = [];
  /** Counted by the shutdown gate; the drain waits until it is idle. */
  readonly requests = new InFlightRequests();
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
    return this.requests.count;
  }

  /** Register work to finish or checkpoint on shutdown (e.g. `lifecycle.onDrain(() => jobs.drain(), 'download jobs')`). */
  onDrain(hook: DrainHook, name = 'drain hook'): void {
    this.hooks.push({ name, hook });
  }

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
    logger?.info({ graceMs, drainMs, inFlight: this.inFlight }, 'draining: /readyz answers 503');

    await this.until(graceMs, deadline.signal);
    this.current = 'refusing';
    logger?.info({ inFlight: this.inFlight, drainHooks: this.hooks.length }, 'refusing new requests');

    const hooks = Promise.all(this.hooks.map(({ name, hook }) => this.runHook(name, hook, deadline.signal)));
    const finished = Promise.all([hooks, this.requests.idle()]).then(() => true);
    const timedOut = new Promise<false>((resolve) => deadline.signal.addEventListener('abort', () => resolve(false), { once: true }));
    const drained = await Promise.race([finished, timedOut]);
    cancelDeadline();
    const result = { drained, inFlight: this.inFlight };
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

  /** Waits `ms`, or less if the deadline comes first. */
  private until(ms: number, deadline: AbortSignal): Promise<void> {
    if (ms <= 0 || deadline.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.schedule(ms, resolve);
      deadline.addEventListener('abort', () => (cancel(), resolve()), { once: true });
    });
  }
}
