/**
 * `npm run bench:prefix`: prefix jobs (POST /v1/downloads with `prefix`), each
 * figure a ratio against baselines measured in the same run, interleaved,
 * three rounds at least (BENCH_ROUNDS), min and median, written to
 * bench/RESULTS-prefix.md.
 *
 * Two sets: 1,000 objects of 64 KiB (BENCH_SMALL_FILES) and 20 objects of
 * 64 MiB (BENCH_LARGE_FILES). For each, per round and in turn:
 * - the service's prefix job with DOWNLOAD_FILES_PARALLELISM=8 (the default);
 * - the same job on a second service started with DOWNLOAD_FILES_PARALLELISM=1
 *   (the serial rate the issue's 4x goal is measured against);
 * - aria2c -i on a list of the same objects' URLs through the service
 *   (GET /v1/objects/...), 8 at a time: a well-known parallel downloader on
 *   the same path, without verification or fsync.
 * Every job ends with every file's CRC64 verified (the job fails otherwise).
 * BENCH_OSS_LATENCY_MS makes the emulator wait before every answer, as OSS's
 * time to first byte does (a set with 0 files is left out).
 *
 * The service and the OSS emulator (this process) share the machine's CPUs,
 * so each run also records the CPU each used per file (/proc/PID/stat for
 * the service, process.cpuUsage for the emulator): a job bound by CPU is
 * judged for the service alone from its own share (bench/prefix-profile.ts
 * splits it further, by thread).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUCKET, startEmulators } from './lib/emulators';
import { cpuSeconds, startService, type Child } from './lib/processes';
import { prependRun } from './lib/results-file';
import { summarize, type Summary } from './lib/stats';

const MiB = 1024 * 1024;
/** BENCH_OSS_LATENCY_MS: time OSS takes to answer each request (0: loopback as is). */
const OSS_LATENCY_MS = Number(process.env.BENCH_OSS_LATENCY_MS ?? 0);
const RESULTS_FILE = path.join(__dirname, 'RESULTS-prefix.md');

interface Set {
  name: string;
  prefix: string;
  files: number;
  bytes: number;
}

interface SetFigures {
  set: Set;
  parallel: Summary;
  serial: Summary;
  aria2: Summary;
  /** CPU milliseconds per file, medians over the rounds. */
  cpu: { parallel: CpuPerFile; serial: CpuPerFile };
}

interface CpuPerFile {
  service: number;
  emulator: number;
}

/** One timed run: its seconds, and the CPU seconds the service and the emulator used. */
interface Run {
  seconds: number;
  service: number;
  emulator: number;
}

async function main(): Promise<void> {
  const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
  const sets = (
    [
      {
        name: `${Number(process.env.BENCH_SMALL_FILES ?? 1000)} objects of 64 KiB`,
        prefix: 'small/',
        files: Number(process.env.BENCH_SMALL_FILES ?? 1000),
        bytes: 64 * 1024,
      },
      {
        name: `${Number(process.env.BENCH_LARGE_FILES ?? 20)} objects of 64 MiB`,
        prefix: 'large/',
        files: Number(process.env.BENCH_LARGE_FILES ?? 20),
        bytes: 64 * MiB,
      },
    ] satisfies Set[]
  ).filter((set) => set.files > 0);
  const work = mkdtempSync(path.join(os.tmpdir(), 'oss-download-prefix-bench-'));
  const emulators = await startEmulators();
  const { oss } = emulators;
  // Loopback OSS answers at once, so a serial job is bound by CPU like the parallel one; real OSS
  // takes milliseconds to its first byte, which is what parallel files are for. Every request waits this long.
  if (OSS_LATENCY_MS > 0) oss.injectFault({ kind: 'latency', ms: OSS_LATENCY_MS, times: Infinity });
  for (const set of sets) {
    for (let i = 0; i < set.files; i++) oss.putGeneratedObject(BUCKET, `${set.prefix}${String(i).padStart(4, '0')}.bin`, set.bytes, i + 1);
  }
  const env = emulators.serviceEnv({ LOG_LEVEL: 'warn', DOWNLOAD_ROOT: work, DOWNLOAD_ROOT_SHARED: 'true' });
  const parallelService = await startService({ ...env, DOWNLOAD_FILES_PARALLELISM: '8' });
  const serialService = await startService({ ...env, DOWNLOAD_FILES_PARALLELISM: '1' });
  try {
    await prefixJob(parallelService, 'small/', 'warm-up'); // JIT, credentials, sockets
    rmSync(path.join(work, 'warm-up'), { recursive: true });
    const figures: SetFigures[] = [];
    for (const set of sets) {
      const runs = { parallel: [] as Run[], serial: [] as Run[], aria2: [] as Run[] };
      for (let round = 0; round < rounds; round++) {
        log(`${set.name}, round ${round + 1} of ${rounds} ...`);
        runs.parallel.push(await fresh(work, 'p', parallelService, () => prefixJob(parallelService, set.prefix, 'p')));
        runs.serial.push(await fresh(work, 's', serialService, () => prefixJob(serialService, set.prefix, 's')));
        runs.aria2.push(await fresh(work, 'a', parallelService, () => aria2(parallelService, set, path.join(work, 'a'))));
      }
      const seconds = (r: Run[]) => summarize(r.map((x) => x.seconds));
      const cpu = (r: Run[]) => ({
        service: (summarize(r.map((x) => x.service)).median * 1000) / set.files,
        emulator: (summarize(r.map((x) => x.emulator)).median * 1000) / set.files,
      });
      figures.push({
        set,
        parallel: seconds(runs.parallel),
        serial: seconds(runs.serial),
        aria2: seconds(runs.aria2),
        cpu: { parallel: cpu(runs.parallel), serial: cpu(runs.serial) },
      });
    }
    const run = report(figures, rounds);
    prependRun(RESULTS_FILE, RESULTS_TITLE, run);
    process.stdout.write(run);
  } finally {
    await Promise.all([parallelService.stop(), serialService.stop()]);
    rmSync(work, { recursive: true, force: true });
    await emulators.close();
  }
}

/** Times `run` with the folder `name` under `work` absent before and removed after (every round downloads every file), and the CPU `service` and this process used meanwhile. */
async function fresh(work: string, name: string, service: Child, run: () => Promise<void>): Promise<Run> {
  rmSync(path.join(work, name), { recursive: true, force: true });
  const serviceBefore = cpuSeconds(service.pid);
  const emulatorBefore = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const emulator = process.cpuUsage(emulatorBefore);
  const used = { seconds, service: cpuSeconds(service.pid) - serviceBefore, emulator: (emulator.user + emulator.system) / 1e6 };
  rmSync(path.join(work, name), { recursive: true, force: true });
  return used;
}

async function prefixJob(service: Child, prefix: string, folder: string): Promise<void> {
  const res = await fetch(`${service.url}/v1/downloads?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket: BUCKET, prefix, path: folder }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`the prefix job failed (${res.status}): ${body}`);
}

/** aria2c -i on the objects' URLs through the service, 8 at a time, one connection each. */
function aria2(service: Child, set: Set, dir: string): Promise<void> {
  const list = Array.from({ length: set.files }, (_, i) => {
    const name = `${String(i).padStart(4, '0')}.bin`;
    return `${service.url}/v1/objects/${BUCKET}/${set.prefix}${name}\n  out=${name}`;
  }).join('\n');
  const listFile = `${dir}.list`;
  writeFileSync(listFile, `${list}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'aria2c',
      ['-q', '-i', listFile, '-d', dir, '-j', '8', '-x', '1', '--allow-overwrite=true', '--auto-file-renaming=false', '--file-allocation=none'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => {
      rmSync(listFile, { force: true });
      if (code === 0) resolve();
      else reject(new Error(`aria2c exited ${code}: ${stderr}`));
    });
  });
}

function report(figures: SetFigures[], rounds: number): string {
  const cores = os.cpus().length;
  const rows = figures.flatMap(({ set, parallel, serial, aria2 }) => {
    const mib = (set.files * set.bytes) / MiB;
    const rate = (s: Summary) =>
      `${(set.files / s.median).toFixed(0)} files/s, ${(mib / s.median).toFixed(0)} MiB/s (min time ${s.min.toFixed(2)} s, median ${s.median.toFixed(2)} s)`;
    return [
      [
        `${set.name}: prefix job, 8 files at once`,
        rate(parallel),
        `${(serial.median / parallel.median).toFixed(2)}x the serial job (min ${(serial.min / parallel.min).toFixed(2)}x)`,
        set.bytes < MiB ? 'at least 4x the serial rate' : '',
      ],
      [`${set.name}: prefix job, DOWNLOAD_FILES_PARALLELISM=1`, rate(serial), '1.00x', ''],
      [
        `${set.name}: aria2c -i through the service, -j 8`,
        rate(aria2),
        `the job at ${(aria2.median / parallel.median).toFixed(2)}x aria2c's rate (min ${(aria2.min / parallel.min).toFixed(2)}x)`,
        '',
      ],
    ];
  });
  const cpuRows = figures.map(({ set, serial, cpu }) => {
    const serialRate = set.files / serial.median;
    // The rate the service's own CPU allows on every core, with the emulator elsewhere, against the serial job measured here.
    const serviceBound = (cores * 1000) / cpu.parallel.service;
    return [
      set.name,
      `${cpu.parallel.service.toFixed(2)} ms`,
      `${cpu.parallel.emulator.toFixed(2)} ms`,
      `${cpu.serial.service.toFixed(2)} ms`,
      `${cpu.serial.emulator.toFixed(2)} ms`,
      `${serviceBound.toFixed(0)} files/s, ${(serviceBound / serialRate).toFixed(2)}x the serial job`,
    ];
  });
  return [
    `## Run of ${new Date().toISOString()}`,
    '',
    `\`npm run bench:prefix\` on ${cores} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), Node.js ${process.version}, ${rounds} interleaved rounds.`,
    'Two built services (DOWNLOAD_FILES_PARALLELISM 8 and 1) in child processes, the OSS emulator in the benchmark process, all sharing the CPUs.',
    OSS_LATENCY_MS > 0
      ? `The emulator waited ${OSS_LATENCY_MS} ms before answering every request (BENCH_OSS_LATENCY_MS): OSS's time to first byte, which loopback does not have.`
      : 'The emulator answered at once (loopback, BENCH_OSS_LATENCY_MS=0).',
    "Every job verifies each file's CRC64 and fsyncs it and its folder; aria2c does neither, so it is the faster side by construction.",
    `Load average when the run ended: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}.`,
    '',
    '| what | measured (median) | ratio in the same run | goal (issue 12) |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `CPU per file (medians), and the rate the parallel job's service CPU alone would allow on ${cores} cores:`,
    '',
    '| set | service, 8 at once | emulator, 8 at once | service, serial | emulator, serial | service-bound rate |',
    '| --- | --- | --- | --- | --- | --- |',
    ...cpuRows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

const RESULTS_TITLE = [
  '# Prefix download benchmark results',
  '',
  '`npm run bench:prefix` puts its newest run first and keeps the earlier ones below.',
  '',
].join('\n');

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
