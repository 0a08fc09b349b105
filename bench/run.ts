import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startEmulators } from './lib/emulators';
import { PROJECT_ROOT, SERVICE_ENTRY } from './lib/processes';
import { renderResults } from './report';
import { credentialPath } from './scenarios/credential-path';
import { concurrentStreams, crcVariants, singleStream } from './scenarios/large-streams';
import { profileSmallObjects } from './scenarios/profile';
import { slowClients } from './scenarios/slow-clients';
import { smallObjects } from './scenarios/small-objects';

/**
 * `npm run bench`: every scenario of issue 6, sized for a 2-core machine
 * shared with other work (about 6 minutes), each figure next to its baseline
 * from the same run. Writes bench/RESULTS.json and bench/RESULTS.md.
 *
 * BENCH_ONLY=large,concurrent,small,slow,credentials,profile picks scenarios;
 * BENCH_RUNS (3) repeats each measurement; BENCH_BEFORE_ENTRY is a server.js
 * built before the profile's optimisation (section 6 then measures both).
 */

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RUNS = num('BENCH_RUNS', 3);
const only = new Set((process.env.BENCH_ONLY ?? 'large,concurrent,small,slow,credentials,profile').split(','));

export const PARAMETERS = {
  runs: RUNS,
  concurrentStreams: num('BENCH_STREAMS', 64),
  /** 2 GiB-plus per round and target: two rounds keep the bench near 10 minutes on 2 cores. */
  concurrentRuns: num('BENCH_CONCURRENT_RUNS', Math.min(RUNS, 2)),
  smallSeconds: num('BENCH_SMALL_SECONDS', 5),
  smallConnections: [32, 128],
  slowClients: num('BENCH_SLOW_CLIENTS', 200),
  slowBytesPerSecond: 64 * 1024,
  slowSeconds: num('BENCH_SLOW_SECONDS', 20),
  credentialRequests: 10_000,
  libraryRequests: num('BENCH_LIBRARY_REQUESTS', 2_000),
  profileSeconds: num('BENCH_PROFILE_SECONDS', 8),
};

async function main(): Promise<void> {
  if (!existsSync(SERVICE_ENTRY)) throw new Error(`${SERVICE_ENTRY} is missing: run \`npm run build\` first`);
  mkdirSync(join(PROJECT_ROOT, 'bench', '.out'), { recursive: true });
  const started = Date.now();
  const results: Record<string, unknown> = {
    machine: {
      loadAverage: os.loadavg(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      platform: `${os.type()} ${os.release()}`,
      totalMemMib: Math.round(os.totalmem() / 2 ** 20),
    },
    date: new Date().toISOString(),
    parameters: PARAMETERS,
    crcVariants: crcVariants().map((v) => v.name),
  };
  const step = async (name: string, f: () => Promise<unknown>) => {
    if (!only.has(name)) return;
    const t = Date.now();
    process.stderr.write(`bench: ${name}...\n`);
    results[name] = await f();
    process.stderr.write(`bench: ${name} took ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  };

  const emu = await startEmulators();
  try {
    await step('large', () => singleStream(emu, RUNS));
    await step('concurrent', () => concurrentStreams(emu, PARAMETERS.concurrentRuns, PARAMETERS.concurrentStreams));
    await step('small', () => smallObjects(emu, RUNS, PARAMETERS.smallSeconds, PARAMETERS.smallConnections));
    await step('slow', () => slowClients(emu, PARAMETERS.slowClients, PARAMETERS.slowBytesPerSecond, PARAMETERS.slowSeconds));
    await step('profile', () => profileSmallObjects(emu, PARAMETERS.profileSeconds, RUNS));
  } finally {
    await emu.close();
  }
  await step('credentials', () => credentialPath(PARAMETERS.credentialRequests, PARAMETERS.libraryRequests));
  results.totalSeconds = Math.round((Date.now() - started) / 1000);

  const out = process.env.BENCH_OUT ?? join(PROJECT_ROOT, 'bench', 'RESULTS.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(out.replace(/\.json$/, '.md'), renderResults(results));
  process.stderr.write(`bench: done in ${results.totalSeconds as number} s; wrote ${out} and the .md beside it\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
