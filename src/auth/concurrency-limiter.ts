import type { AppError } from '../errors';

/**
 * Counts concurrent uses per key (a token's name, or one key for the whole
 * service) and refuses past `max`. `acquire` hands back the release function,
 * which is safe to call more than once, so a caller can tie it to every way a
 * request or job can end.
 */
export class ConcurrencyLimiter {
  private readonly counts = new Map<string, number>();

  constructor(
    readonly max: number,
    private readonly refusal: (key: string) => AppError,
  ) {}

  /** A release function, or throws the refusal when `key` already holds `max` slots. */
  acquire(key: string): () => void {
    this.take(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(key);
    };
  }

  /**
   * `acquire` without the release function, for a caller that keeps track of
   * what it holds itself and calls `release` exactly once (the stream guard:
   * no closure per request).
   */
  take(key: string): void {
    const held = this.counts.get(key) ?? 0;
    if (held >= this.max) throw this.refusal(key);
    this.counts.set(key, held + 1);
  }

  release(key: string): void {
    const now = (this.counts.get(key) ?? 1) - 1;
    if (now === 0) this.counts.delete(key);
    else this.counts.set(key, now);
  }
}
