/**
 * CRC-64/XZ from liblzma (`lzma_crc64`), called through the koffi FFI. The
 * only module that imports koffi.
 *
 * liblzma's CRC-64 is exactly OSS's `x-oss-hash-crc64ecma` (ECMA-182,
 * reflected, init and xorout all ones), it is on every Debian system and in
 * every `node:*-bookworm*` image as `liblzma5`, and it runs several times
 * faster than the table-driven TypeScript in ./crc64.ts (bench/RESULTS-crc64.md).
 * koffi 2.x ships prebuilt binaries inside the npm package, so nothing is
 * compiled at install time. When either cannot be loaded (another OS, a
 * musl image without liblzma, koffi missing), ./crc64-choice.ts falls back
 * to the TypeScript implementation.
 */

/** `uint64_t lzma_crc64(const uint8_t *buf, size_t size, uint64_t crc)`: crc is the previous result, 0 to start. */
export type LzmaCrc64 = (buf: Uint8Array, size: number, crc: bigint) => bigint | number;

/** The soname Debian ships (package liblzma5). */
export const LIBLZMA_SONAME = 'liblzma.so.5';

/**
 * Loads `lzma_crc64`, or throws why it cannot. koffi is required here, not at
 * the top of the file: a platform without a koffi prebuild throws on require,
 * and that must mean "use the fallback", not "the service cannot start".
 */
export function loadLzmaCrc64(library: string = LIBLZMA_SONAME): LzmaCrc64 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily on purpose, see above
  const koffi = require('koffi') as typeof import('koffi');
  const lib = koffi.load(library);
  return lib.func('uint64_t lzma_crc64(const uint8_t *buf, size_t size, uint64_t crc)') as LzmaCrc64;
}

/**
 * The incremental hasher over `lzma_crc64`, with the API of ./crc64.ts's
 * Crc64. liblzma takes the previous result and does the pre- and
 * post-inversion itself, so the register is just the last answer. koffi hands
 * back a 64-bit integer as a number when it fits 2^53 and as a BigInt when
 * not; `digest` always answers a BigInt.
 */
export function nativeCrc64Class(lzmaCrc64: LzmaCrc64) {
  return class NativeCrc64 {
    private crc: bigint = 0n;

    update(buf: Uint8Array): this {
      // koffi passes a typed array's own view (byteOffset included), so pool slices need no copy.
      if (buf.length > 0) this.crc = BigInt(lzmaCrc64(buf, buf.length, this.crc));
      return this;
    }

    digest(): bigint {
      return this.crc;
    }

    /** Decimal, the way OSS writes it in `x-oss-hash-crc64ecma`. */
    toString(): string {
      return this.crc.toString();
    }
  };
}
