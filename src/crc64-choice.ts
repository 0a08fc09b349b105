import { Crc64 as TypeScriptCrc64, crc64Combine } from './crc64';
import { loadLzmaCrc64, nativeCrc64Class, type LzmaCrc64 } from './crc64-native';

/**
 * Which CRC-64/XZ the service runs: liblzma's through koffi when it loads and
 * answers the catalogue check value, the TypeScript one in ./crc64.ts
 * otherwise. Every caller (the stream verifier, the download parts, the
 * checkpoints) imports `Crc64` from here; server.ts logs the choice at start
 * and /metrics shows it as `crc64_implementation{impl}`.
 */

/** The API both implementations share. */
export interface Crc64Hasher {
  update(buf: Uint8Array): this;
  digest(): bigint;
  /** Decimal, the way OSS writes it in `x-oss-hash-crc64ecma`. */
  toString(): string;
}

export type Crc64Implementation = 'liblzma' | 'js';

export interface Crc64Choice {
  impl: Crc64Implementation;
  Crc64: new () => Crc64Hasher;
  /** Why the fast one is not running (impl `js` only). */
  fallbackReason?: string;
}

const CHECK_INPUT = Buffer.from('123456789');
const CHECK_VALUE = 11051210869376104954n;

/**
 * Tries `load` (liblzma through koffi by default) and keeps it only when it
 * gives the CRC-64/XZ check value: a library that loads but computes something
 * else (another CRC, a broken ABI) would fail every object as a mismatch.
 */
export function chooseCrc64(load: () => LzmaCrc64 = loadLzmaCrc64): Crc64Choice {
  try {
    const NativeCrc64 = nativeCrc64Class(load());
    const check = new NativeCrc64().update(CHECK_INPUT).digest();
    if (check !== CHECK_VALUE) {
      return fallback(`lzma_crc64 gave ${check} for "123456789", not ${CHECK_VALUE}`);
    }
    return { impl: 'liblzma', Crc64: NativeCrc64 };
  } catch (err) {
    return fallback(err instanceof Error ? err.message : String(err));
  }
}

function fallback(reason: string): Crc64Choice {
  return { impl: 'js', Crc64: TypeScriptCrc64, fallbackReason: reason };
}

/** Decided once, when the process loads this module. */
export const crc64Choice: Readonly<Crc64Choice> = Object.freeze(chooseCrc64());

/** Incremental CRC-64/XZ: feed chunks in order with `update`, read with `digest`. */
export const Crc64 = crc64Choice.Crc64;
export type Crc64 = Crc64Hasher;

export function crc64(buf: Uint8Array): bigint {
  return new Crc64().update(buf).digest();
}

export { crc64Combine };
