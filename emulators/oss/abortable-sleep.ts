/**
 * Wait `ms` (forever when undefined), or less if `signal` aborts first: a
 * stalled or throttled response must not outlive its client or the emulator.
 * Resolves either way; callers check `signal.aborted`.
 */
export function abortableSleep(ms: number | undefined, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
