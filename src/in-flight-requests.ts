/**
 * Counts requests being answered right now (object streams included), and
 * tells the shutdown when none is left: the shutdown gate
 * (src/http/shutdown-gate.ts) counts, the Lifecycle (src/lifecycle.ts) waits.
 */
export class InFlightRequests {
  private current = 0;
  private readonly idleWaiters = new Set<() => void>();

  get count(): number {
    return this.current;
  }

  started(): void {
    this.current += 1;
  }

  /** A bound function, so a response's 'close' listener is the same function for every request, not a closure per request. */
  readonly ended = (): void => {
    this.current -= 1;
    if (this.current === 0) for (const wake of [...this.idleWaiters]) wake();
  };

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.current === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.idleWaiters.delete(wake);
        resolve();
      };
      this.idleWaiters.add(wake);
    });
  }
}
