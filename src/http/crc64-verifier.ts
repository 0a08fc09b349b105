/**
 * Checking an object body against OSS's `x-oss-hash-crc64ecma` as it passes
 * (src/http/stream-body.ts holds back the latest chunk until the verdict).
 */

export class Crc64MismatchError extends Error {
  constructor(
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`CRC64 mismatch: OSS announced ${expected}, the bytes that came give ${actual}`);
    this.name = 'Crc64MismatchError';
  }
}

/** The CRC64 OSS announced for the whole object, when it sent a readable one. */
export function announcedCrc64(headers: Readonly<Record<string, string>>): bigint | undefined {
  const value = headers['x-oss-hash-crc64ecma'];
  return value !== undefined && /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
}
