import { randomBytes } from 'node:crypto';
import { crc64 as npmCrc64 } from 'crc64-ecma182.js';
import { Crc64, crc64Choice } from '../src/crc64-choice';

/**
 * CRC-64/XZ throughput: the Crc64 this project runs (liblzma through koffi,
 * or the TypeScript fallback: `impl` says which) against the npm package crc64-ecma182.js, on the same 8 MiB buffer (the package aborts on
 * inputs over about 16 MiB), best of several rounds.
 */
export interface CrcResult {
  ours: number;
  impl: string;
  npm: number;
}

const MiB = 1024 * 1024;

export function benchCrc(totalMiB = 512): CrcResult {
  const buffer = randomBytes(8 * MiB);
  const rounds = Math.max(1, Math.floor(totalMiB / 8));
  if (new Crc64().update(buffer).toString() !== npmCrc64(buffer)) throw new Error('the two CRC64 implementations disagree');
  return {
    impl: crc64Choice.impl,
    ours: bestRate(rounds, () => new Crc64().update(buffer)),
    npm: bestRate(Math.max(1, rounds / 4), () => npmCrc64(buffer)),
  };
}

/** MiB/s over `rounds` passes of 8 MiB, the best of three runs. */
function bestRate(rounds: number, pass: () => unknown): number {
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) pass();
    const seconds = (performance.now() - start) / 1000;
    best = Math.max(best, (rounds * 8) / seconds);
  }
  return best;
}
