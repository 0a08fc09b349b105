import { Transform, type TransformCallback } from 'node:stream';
import { Crc64 } from '../crc64-choice';

/**
 * Checks an object body against OSS's `x-oss-hash-crc64ecma` as it passes.
 *
 * The verdict is only known after the last byte, and by then a caller that
 * was told Content-Length would hold a body that looks whole. So the verifier
 * always holds back the latest chunk: on a match it lets it go at the end, on
 * a mismatch it fails instead, the pipeline destroys the response, and the
 * caller is short of at least that chunk, a broken transfer it cannot mistake
 * for a good one. (An empty body has nothing to hold back, and nothing to get wrong.)
 */
export class Crc64Verifier extends Transform {
  private readonly crc = new Crc64();
  private held: Buffer | undefined;

  constructor(private readonly expected: bigint) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.crc.update(chunk);
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.crc.digest();
    if (actual !== this.expected) {
      done(new Crc64MismatchError(this.expected, actual));
      return;
    }
    done(null, this.held);
  }
}

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
