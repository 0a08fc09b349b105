import { createCipheriv, createHash } from 'node:crypto';
import { crc64, crc64Combine } from '../../src/crc64';
import type { ObjectContent } from './object-content';

/**
 * Objects of any size (1 GiB and more) that live neither in memory nor on
 * disk: byte i is `block(seed)[i mod BLOCK_LENGTH]`, where the block is a
 * pseudo-random run of a prime length. A prime period means a range read that
 * is off by any N bytes (N not a multiple of a million and three) shows up
 * as wrong bytes, and a 64 KiB-aligned bug cannot line up with the pattern.
 */
export const BLOCK_LENGTH = 1_000_003;

const blocks = new Map<number, Buffer>();
const MAX_CACHED_BLOCKS = 8;

/** AES-128-CTR over zeros: deterministic, fast (native), and patternless. */
function block(seed: number): Buffer {
  let cached = blocks.get(seed);
  if (cached === undefined) {
    const key = createHash('sha256').update(`oss-emulator-block:${seed}`).digest().subarray(0, 16);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
    cached = Buffer.concat([cipher.update(Buffer.alloc(BLOCK_LENGTH)), cipher.final()]);
    if (blocks.size >= MAX_CACHED_BLOCKS) blocks.delete(blocks.keys().next().value as number);
    blocks.set(seed, cached);
  }
  return cached;
}

export class GeneratedContent implements ObjectContent {
  constructor(
    readonly seed: number,
    readonly size: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`generated object size ${size}`);
  }

  read(offset: number, length: number): Buffer {
    const source = block(this.seed);
    let position = offset % BLOCK_LENGTH;
    // Within one period: a view, no copy (the emulator serves gigabytes; its CPU is not OSS's).
    if (position + length <= BLOCK_LENGTH) return source.subarray(position, position + length);
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const n = Math.min(BLOCK_LENGTH - position, length - filled);
      source.copy(out, filled, position, position + n);
      filled += n;
      position = 0;
    }
    return out;
  }

  /** CRC-64 of all `size` bytes in O(log size) combines, never reading them. */
  crc64(): bigint {
    const source = block(this.seed);
    const wholeBlocks = Math.floor(this.size / BLOCK_LENGTH);
    const tail = this.size % BLOCK_LENGTH;
    const repeated = repeatCrc(crc64(source), BLOCK_LENGTH, wholeBlocks);
    return crc64Combine(repeated, crc64(source.subarray(0, tail)), tail);
  }

  /** Stands in for the MD5 OSS would report: stable for (seed, size), different otherwise. */
  etag(): string {
    return createHash('md5').update(`generated:${this.seed}:${this.size}`).digest('hex').toUpperCase();
  }
}

/** CRC of `times` back-to-back copies of a `length`-byte run, by doubling. */
function repeatCrc(crc: bigint, length: number, times: number): bigint {
  let result = 0n; // CRC of the empty string
  let base = crc;
  let baseLength = length;
  for (let remaining = times; remaining > 0; remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) result = crc64Combine(result, base, baseLength);
    if (remaining > 1) {
      base = crc64Combine(base, base, baseLength);
      baseLength *= 2;
    }
  }
  return result;
}
