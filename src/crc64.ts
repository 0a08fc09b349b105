/**
 * CRC-64/XZ, the checksum OSS sends as `x-oss-hash-crc64ecma` (ECMA-182
 * polynomial, reflected, init and xorout all ones; "123456789" gives
 * 11051210869376104954).
 *
 * `update` is the hot path (every byte of every download goes through it), so
 * it runs slicing-by-8 on two 32-bit halves: BigInt arithmetic is roughly two
 * orders of magnitude slower. BigInt appears only at the API edge and in
 * `crc64Combine`, which runs a handful of times per object. Tables and
 * register are signed 32-bit values (Int32Array), which V8 keeps in registers,
 * and a DataView reads each 8-byte block at any byte offset; the measurements
 * behind these choices are in bench/RESULTS-crc64.md.
 */

/** ECMA-182 polynomial 0x42F0E1EBA9EA3693, bit-reflected. */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const POLY = (BigInt(POLY_HI) << 32n) | BigInt(POLY_LO);
const MASK64 = (1n << 64n) - 1n;

/**
 * Table k (k = 0..7) lives at [k * 256, k * 256 + 256): the CRC of a byte
 * followed by k zero bytes, as two signed 32-bit halves.
 */
const TABLE_HI = new Int32Array(8 * 256);
const TABLE_LO = new Int32Array(8 * 256);

function buildTables(): void {
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = (lo >>> 1) | (hi << 31);
      hi = hi >>> 1;
      if (carry) {
        hi ^= POLY_HI;
        lo ^= POLY_LO;
      }
    }
    TABLE_HI[n] = hi;
    TABLE_LO[n] = lo;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prevHi = TABLE_HI[(k - 1) * 256 + n];
      const prevLo = TABLE_LO[(k - 1) * 256 + n];
      const index = prevLo & 0xff;
      TABLE_HI[k * 256 + n] = (prevHi >>> 8) ^ TABLE_HI[index];
      TABLE_LO[k * 256 + n] = ((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[index];
    }
  }
}
buildTables();

/** Incremental CRC-64/XZ: feed chunks in order with `update`, read with `digest`. */
export class Crc64 {
  // The register, pre-inverted (init = all ones), as signed 32-bit halves.
  private hi = -1;
  private lo = -1;

  update(buf: Uint8Array): this {
    let hi = this.hi;
    let lo = this.lo;
    const length = buf.length;
    const blockEnd = length - (length & 7);
    const T_HI = TABLE_HI;
    const T_LO = TABLE_LO;
    const words = new DataView(buf.buffer, buf.byteOffset, length);
    let i = 0;
    for (; i < blockEnd; i += 8) {
      const a = lo ^ words.getInt32(i, true);
      const b = hi ^ words.getInt32(i + 4, true);
      const i7 = 1792 + (a & 0xff);
      const i6 = 1536 + ((a >>> 8) & 0xff);
      const i5 = 1280 + ((a >>> 16) & 0xff);
      const i4 = 1024 + (a >>> 24);
      const i3 = 768 + (b & 0xff);
      const i2 = 512 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      hi = T_HI[i7] ^ T_HI[i6] ^ T_HI[i5] ^ T_HI[i4] ^ T_HI[i3] ^ T_HI[i2] ^ T_HI[i1] ^ T_HI[i0];
      lo = T_LO[i7] ^ T_LO[i6] ^ T_LO[i5] ^ T_LO[i4] ^ T_LO[i3] ^ T_LO[i2] ^ T_LO[i1] ^ T_LO[i0];
    }
    for (; i < length; i++) {
      const index = (lo ^ buf[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[index];
      hi = (hi >>> 8) ^ T_HI[index];
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digest(): bigint {
    return (BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0);
  }

  /** Decimal, the way OSS writes it in `x-oss-hash-crc64ecma`. */
  toString(): string {
    return this.digest().toString();
  }
}

export function crc64(buf: Uint8Array): bigint {
  return new Crc64().update(buf).digest();
}

/**
 * (a * b) mod P in GF(2), reflected bit order (the top bit is x^0), as zlib's
 * `multmodp`. `a` must be non-zero.
 */
function multModP(a: bigint, b: bigint): bigint {
  let m = 1n << 63n;
  let product = 0n;
  for (;;) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ POLY : b >> 1n;
  }
  return product;
}

/** X2N[k] = x^(2^k) mod P. */
const X2N: bigint[] = (() => {
  const table: bigint[] = [];
  let p = 1n << 62n; // x^1
  table.push(p);
  for (let k = 1; k < 64; k++) {
    p = multModP(p, p);
    table.push(p);
  }
  return table;
})();

/** x^(n * 2^k) mod P. */
function x2nModP(n: bigint, k: number): bigint {
  let p = 1n << 63n; // x^0
  while (n > 0n) {
    if (n & 1n) p = multModP(X2N[k & 63], p);
    n >>= 1n;
    k++;
  }
  return p;
}

/**
 * The CRC of A||B from crc(A), crc(B) and B's length, as zlib's
 * `crc32_combine`: shift crc(A) past len2 zero bytes, then add crc(B). Used to
 * verify parts fetched in parallel and to checksum generated objects without
 * reading them.
 */
export function crc64Combine(crc1: bigint, crc2: bigint, len2: number): bigint {
  if (!Number.isSafeInteger(len2) || len2 < 0) throw new RangeError(`crc64Combine: bad length ${len2}`);
  return (multModP(x2nModP(BigInt(len2), 3), crc1 & MASK64) ^ crc2) & MASK64;
}
