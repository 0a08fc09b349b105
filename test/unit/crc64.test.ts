import { randomBytes } from 'node:crypto';
import { crc64 as npmCrc64 } from 'crc64-ecma182.js';
import { Crc64, crc64, crc64Combine } from '../../src/crc64';

describe('crc64 (CRC-64/XZ, as OSS sends in x-oss-hash-crc64ecma)', () => {
  it('gives the catalogue check value for "123456789"', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(11051210869376104954n);
  });

  it('is 0 for empty input, and update() with nothing changes nothing', () => {
    expect(crc64(new Uint8Array(0))).toBe(0n);
    const crc = new Crc64().update(Buffer.from('123456789')).update(new Uint8Array(0));
    expect(crc.digest()).toBe(11051210869376104954n);
  });

  it('prints the decimal form OSS uses', () => {
    expect(new Crc64().update(Buffer.from('123456789')).toString()).toBe('11051210869376104954');
  });

  it('gives the same value fed in random pieces as in one piece', () => {
    for (let round = 0; round < 20; round++) {
      const data = randomBytes(1 + Math.floor(Math.random() * 5000));
      const incremental = new Crc64();
      let offset = 0;
      while (offset < data.length) {
        const length = Math.floor(Math.random() * 40);
        incremental.update(data.subarray(offset, offset + length));
        offset += length;
      }
      expect(incremental.digest()).toBe(crc64(data));
    }
  });

  it('handles every tail length around the 8-byte stride', () => {
    const data = randomBytes(64);
    for (let length = 0; length <= 64; length++) {
      const slice = data.subarray(0, length);
      expect(crc64(slice)).toBe(bytewiseReference(slice));
    }
  });

  it('gives the same value for a view at any byte offset of a larger buffer', () => {
    // Socket chunks are views into Node's buffer pool and start at any offset, not only at multiples of 4 or 8.
    const backing = randomBytes(200);
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 191]) {
        const view = new Uint8Array(backing.buffer, backing.byteOffset + offset, length);
        expect([offset, length, crc64(view)]).toEqual([offset, length, bytewiseReference(view)]);
      }
    }
  });

  it('agrees with the bit-at-a-time definition on bytes whose table entries have the top bit set', () => {
    // All 0xff and alternating patterns drive every table index, including those holding values of 2^31 and above.
    for (const fill of [0xff, 0x80, 0x7f, 0xaa]) {
      const data = Buffer.alloc(257, fill);
      expect(crc64(data)).toBe(bytewiseReference(data));
    }
  });

  it('agrees with the npm package crc64-ecma182.js on 1 MiB fed in chunks at odd offsets', () => {
    const data = randomBytes(1024 * 1024 + 5);
    const crc = new Crc64();
    for (let offset = 0; offset < data.length; offset += 16_383) crc.update(data.subarray(offset, offset + 16_383));
    expect(crc.toString()).toBe(npmCrc64(data));
  });
});

describe('crc64Combine', () => {
  it('gives the CRC of the concatenation', () => {
    for (const [left, right] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [7, 9],
      [1000, 3],
      [4096, 65537],
    ]) {
      const a = randomBytes(left);
      const b = randomBytes(right);
      expect(crc64Combine(crc64(a), crc64(b), b.length)).toBe(crc64(Buffer.concat([a, b])));
    }
  });

  it('combines many parts in order, as parallel range downloads do', () => {
    const data = randomBytes(100_000);
    const cuts = [0, 1, 4095, 4096, 50_000, 99_999, 100_000];
    let combined = 0n;
    for (let i = 1; i < cuts.length; i++) {
      const part = data.subarray(cuts[i - 1], cuts[i]);
      combined = crc64Combine(combined, crc64(part), part.length);
    }
    expect(combined).toBe(crc64(data));
  });

  it('refuses a negative or fractional length', () => {
    expect(() => crc64Combine(1n, 2n, -1)).toThrow(RangeError);
    expect(() => crc64Combine(1n, 2n, 1.5)).toThrow(RangeError);
  });
});

/** Bit-at-a-time definition, independent of the table code. */
function bytewiseReference(data: Uint8Array): bigint {
  const poly = 0xc96c5795d7870f42n;
  let crc = 0xffffffffffffffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}
