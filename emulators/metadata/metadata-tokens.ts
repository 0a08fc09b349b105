import { randomBytes } from 'node:crypto';
import type { Clock } from '../../src/clock';

/** Header names as the ECS docs spell them; Node hands them to us lower-cased. */
export const TOKEN_HEADER = 'x-aliyun-ecs-metadata-token';
export const TOKEN_TTL_HEADER = 'x-aliyun-ecs-metadata-token-ttl-seconds';

// "The value can range from 1 to 21600" (ECS docs, "Instance metadata", security hardening mode).
export const MIN_TOKEN_TTL_SECONDS = 1;
export const MAX_TOKEN_TTL_SECONDS = 21600;

export type TokenCheck = 'valid' | 'unknown' | 'expired';

/**
 * The TTL a token request asked for, or undefined when it is missing, not a whole number or out
 * of range: the real service answers all three with "400 - Missing or Invalid Parameters".
 */
export function parseTokenTtl(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\s*\d+\s*$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds >= MIN_TOKEN_TTL_SECONDS && seconds <= MAX_TOKEN_TTL_SECONDS ? seconds : undefined;
}

/** Metadata access tokens (hardened mode), each valid for the TTL it was asked for, by the clock. */
export class MetadataTokens {
  private readonly expiresAt = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  issue(ttlSeconds: number): string {
    const token = randomBytes(32).toString('base64url');
    this.expiresAt.set(token, this.clock.now() + ttlSeconds * 1000);
    return token;
  }

  check(token: string): TokenCheck {
    const expiresAt = this.expiresAt.get(token);
    if (expiresAt === undefined) return 'unknown';
    return this.clock.now() >= expiresAt ? 'expired' : 'valid';
  }
}
