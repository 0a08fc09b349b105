/**
 * Time as a dependency. Everything that depends on expiry (credentials,
 * metadata tokens, jobs) takes a Clock so tests move time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, like Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
