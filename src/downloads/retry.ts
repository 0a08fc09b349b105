import { AppError, isAppError } from '../errors';

/**
 * Backoff between attempts at one request of a download (its HEAD, a part).
 * Time comes from an injected `sleep` so tests run the retries without waiting.
 */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  attempts: number;
  /** Wait before attempt n+1 (n = 1, 2, ...): base * 2^(n-1), capped, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: Sleep;
}

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, sleep: realSleep };

export function backoffMs(policy: RetryPolicy, failedAttempts: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return exponential / 2 + Math.random() * (exponential / 2);
}

/**
 * Runs `attempt` until it succeeds, the policy's attempts are spent, the
 * failure is not worth another attempt, or `signal` aborts; backs off between
 * attempts and tells `onRetry` before each new one.
 */
export async function retrying<T>(policy: RetryPolicy, signal: AbortSignal, attempt: () => Promise<T>, onRetry?: () => void): Promise<T> {
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (err) {
      if (signal.aborted || attempts >= policy.attempts || !isRetryable(err)) throw err;
      onRetry?.();
      await policy.sleep(backoffMs(policy, attempts), signal);
      signal.throwIfAborted(); // the sleep ends early on abort: no attempt after it
    }
  }
}

/**
 * Worth another attempt: the connection broke, OSS answered 5xx or timed out,
 * or the body came up short. Not: the object changed, is gone, or is refused.
 */
export function isRetryable(err: unknown): boolean {
  if (!isAppError(err)) return true; // a socket error or a short body, not one of ours
  return err.code === 'UpstreamUnavailable';
}

export function shortBody(expected: number, received: number): AppError {
  return new AppError('UpstreamUnavailable', `OSS sent ${received} of ${expected} bytes of a part.`);
}
