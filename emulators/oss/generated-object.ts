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
/**
 * An object smaller than a block caches only its own bytes: a thousand
 * objects of 64 KiB fit (a prefix benchmark reads each once per round; the
 * emulator's CPU shares the machine with the service it measures).
 */
const MAX_CACHED_BYTES = 96 * BLOCK_LENGTH;
let cachedBytes = 0;

/**
 * The first `length` bytes (at most BLOCK_LENGTH) of the seed's block:
 * AES-128-CTR over zeros, deterministic, fast (native) and patternless. A CTR
 * keystream's prefix does not depend on how much of it is made, so an object
 * of 64 KiB costs 64 KiB of keystream, not a whole block (a prefix of a
 * thousand small objects, each its own seed, made a megabyte per GET).
 */
function block(seed: number, length: number): Buffer {
  const cached = blocks.get(seed);
  if (cached !== undefined && cached.length >= length) {
    blocks.delete(seed); // least recently used goes first
    blocks.set(seed, cached);
    return cached;
  }
  const key = createHash('sha256').update(`oss-emulator-block:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const made = Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
  forget(seed);
  while (blocks.size > 0 && cachedBytes + made.length > MAX_CACHED_BYTES) forget(blocks.keys().next().value as number);
  blocks.set(seed, made);
  cachedBytes += made.length;
  return made;
}

function forget(seed: number): void {
  cachedBytes -= blocks.get(seed)?.length ?? 0;
  blocks.delete(seed);
}

export class GeneratedContent implements ObjectContent {
  constructor(
    readonly seed: number,
    readonly size: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`generated object size ${size}`);
  }

  /** The part of the block this object uses: all of it unless the object is smaller. */
  private source(): Buffer {
    return block(this.seed, Math.min(this.size, BLOCK_LENGTH));
  }

  read(offset: number, length: number): Buffer {
    const source = this.source();
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
    const source = this.source();
    const wholeBlocks = Math.floor(this.size / BLOCK_LENGTH);
    const tail = this.size % BLOCK_LENGTH;
    const repeated = wholeBlocks === 0 ? 0n : repeatCrc(crc64(source), BLOCK_LENGTH, wholeBlocks);
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
