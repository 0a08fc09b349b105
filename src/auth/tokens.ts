import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Caller tokens: 32 random bytes, base64url, with a prefix that makes a leaked
 * one easy to recognise (secret scanners, grep). Only the SHA-256 of a token is
 * stored; a random 256-bit token needs no slow hash, since nothing can be
 * guessed from its digest.
 */
export const TOKEN_PREFIX = 'odt_';
/** RFC 6750 b64token, bounded: anything else is malformed before any hashing. */
export const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]{16,512}=*$/;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** `sha256:` + 64 lower-case hex digits, as written in the tokens file. */
export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** Constant-time equality of two stored-form hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const TOKEN_ANYWHERE = new RegExp(`${TOKEN_PREFIX}[A-Za-z0-9_-]+`, 'g');

/** A URL or text with every caller token in it censored: a token pasted into a query string never reaches a log. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_ANYWHERE, `${TOKEN_PREFIX}[redacted]`);
}
