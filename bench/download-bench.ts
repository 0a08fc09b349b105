/**
 * `npm run bench:download`: the download-to-disk figures, each a ratio against
 * a baseline measured in the same run, written to bench/RESULTS-downloads.md.
 *
 * - CRC64: the Crc64 this project runs (liblzma, or the TypeScript fallback) against the npm package crc64-ecma182.js.
 * - Parallel parts: with the OSS emulator capping every connection at a fixed
 *   rate (as OSS does per connection), 8 parallel parts against one stream.
 * - Disk rate: uncapped on loopback, `oss-download get` against curl writing
 *   the same object from the emulator straight to disk; and the service's
 *   `POST /v1/downloads?wait=true` (a warm process, no start-up) against the same curl.
 *   Both fsync before they finish and curl does not, so the same curl followed by
 *   `sync -d` (fdatasync: the bytes on disk, as the downloader promises) is reported too.
 * - Peak RSS of `oss-download get` for a large object.
 *
 * Every download is the real command line or the built service in a child
 * process, and every one ends with its CRC64 verified (it fails otherwise).
 * The newest run goes first in RESULTS-downloads.md; earlier runs stay below it.
 * Sizes: BENCH_SIZE_MB (1024), BENCH_RSS_SIZE_MB (4096), BENCH_CAP_MBPS (32).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../src/clock';
import { createMetadataEmulator } from '../emulators/metadata/metadata-emulator';
import { createOssEmulator } from '../emulators/oss/oss-emulator';
import { StsRegistry } from '../emulators/sts-registry';
import { cliEnv, runCli } from '../test/support/cli-process';
import { benchCrc } from './crc-bench';
import { startService, type Child } from './lib/processes';
import { prependRun } from './lib/results-file';

const MiB = 1024 * 1024;
const ROLE = 'bench-role';
const BUCKET = 'bench-bucket';
const RSS_REPORTER = path.join(__dirname, 'report-rss.cjs');
const RESULTS_FILE = path.join(__dirname, 'RESULTS-downloads.md');

interface Timed {
  seconds: number;
  maxRssKiB?: number;
}

async function main(): Promise<void> {
  const sizeMiB = Number(process.env.BENCH_SIZE_MB ?? 1024);
  const rssSizeMiB = Number(process.env.BENCH_RSS_SIZE_MB ?? 4096);
  const capMiBps = Number(process.env.BENCH_CAP_MBPS ?? 32);
  const work = mkdtempSync(path.join(os.tmpdir(), 'oss-download-bench-'));

  const sts = new StsRegistry(systemClock);
  const metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true });
  await metadata.listen();
  const oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
  await oss.listen();
  // public-read so that curl, unsigned, reads the same bytes as the signed command line.
  oss.createBucket(BUCKET, { acl: 'public-read' });
  oss.allow(ROLE, BUCKET);
  oss.putGeneratedObject(BUCKET, 'capped.bin', sizeMiB * MiB, 1);
  oss.putGeneratedObject(BUCKET, 'open.bin', sizeMiB * MiB, 2);
  oss.putGeneratedObject(BUCKET, 'huge.bin', rssSizeMiB * MiB, 3);
  const env = cliEnv({ oss, metadata });
  const cli = (key: string, extra: string[]) =>
    timed(() => runCli(['get', '--overwrite', ...extra, `oss://${BUCKET}/${key}`, path.join(work, key)], env, ['--require', RSS_REPORTER]).exited);
  const service = await startService({ ...env, OSS_ALLOW: BUCKET, AUTH_MODE: 'none', DOWNLOAD_ROOT: work, LOG_LEVEL: 'warn' });

  try {
    log('CRC64 throughput ...');
    const crc = benchCrc();

    log(`capped at ${capMiBps} MiB/s per connection: one stream, ${sizeMiB} MiB ...`);
    oss.injectFault({ kind: 'bandwidth', bytesPerSecond: capMiBps * MiB, match: { key: 'capped.bin' }, times: Infinity });
    const single = await cli('capped.bin', ['--parallelism', '1', '--threshold', String(sizeMiB * 2)]);
    log('capped: 8 parallel parts ...');
    const parallel = await cli('capped.bin', ['--parallelism', '8', '--part-size', '16', '--threshold', '1']);
    oss.clearFaults();

    log('uncapped: curl to disk, oss-download get, a download job of the service (best of 2 each) ...');
    await viaService(service, 'capped.bin', 'warm-up.bin'); // JIT, credentials, sockets
    rmSync(path.join(work, 'warm-up.bin'));
    const curls: Timed[] = [];
    const durableCurls: Timed[] = [];
    const ours: Timed[] = [];
    const jobs: Timed[] = [];
    for (let round = 0; round < 2; round++) {
      curls.push(await timed(() => curl(oss.endpoint, 'open.bin', path.join(work, 'open-curl.bin'))));
      durableCurls.push(await timed(() => curl(oss.endpoint, 'open.bin', path.join(work, 'open-curl.bin'), { fdatasync: true })));
      ours.push(await cli('open.bin', []));
      jobs.push(await viaService(service, 'open.bin', 'open-job.bin'));
    }
    const curlBest = Math.min(...curls.map((t) => t.seconds));
    const durableCurlBest = Math.min(...durableCurls.map((t) => t.seconds));
    const oursBest = Math.min(...ours.map((t) => t.seconds));
    const serviceBest = Math.min(...jobs.map((t) => t.seconds));
    if (statSync(path.join(work, 'open-curl.bin')).size !== sizeMiB * MiB) throw new Error('curl wrote a short file');
    rmSync(path.join(work, 'open-curl.bin'));
    rmSync(path.join(work, 'open.bin'));
    rmSync(path.join(work, 'open-job.bin'));
    rmSync(path.join(work, 'capped.bin'));

    log(`peak RSS for ${rssSizeMiB} MiB ...`);
    const huge = await cli('huge.bin', []);

    const run = report({ sizeMiB, rssSizeMiB, capMiBps, crc, single, parallel, curlBest, durableCurlBest, oursBest, serviceBest, huge });
    prependRun(RESULTS_FILE, RESULTS_TITLE, run);
    process.stdout.write(run);
  } finally {
    await service.stop();
    rmSync(work, { recursive: true, force: true });
    await Promise.all([oss.close(), metadata.close()]);
  }
}

async function timed(run: () => Promise<{ code: number | null; stderr: string }>): Promise<Timed> {
  const start = performance.now();
  const result = await run();
  const seconds = (performance.now() - start) / 1000;
  if (result.code !== 0) throw new Error(`a download failed (exit ${result.code}): ${result.stderr}`);
  const rss = /max-rss-kib=(\d+)/.exec(result.stderr);
  return { seconds, maxRssKiB: rss ? Number(rss[1]) : undefined };
}

/** The running service downloads `key` to `file` under its DOWNLOAD_ROOT: POST /v1/downloads?wait=true, timed to its 201. */
async function viaService(service: Child, key: string, file: string): Promise<Timed> {
  const start = performance.now();
  const res = await fetch(`${service.url}/v1/downloads?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket: BUCKET, key, path: file, overwrite: true }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`the service's download job failed (${res.status}): ${body}`);
  return { seconds: (performance.now() - start) / 1000 };
}

/** curl from the emulator straight to disk: the baseline for the disk rate; with `fdatasync`, then `sync -d` on the file. */
function curl(endpoint: string, key: string, file: string, options: { fdatasync?: boolean } = {}): Promise<{ code: number | null; stderr: string }> {
  const args = ['-sS', '-o', file, '-H', `Host: ${BUCKET}.oss-cn-hangzhou.aliyuncs.com`, `${endpoint}/${key}`];
  return new Promise((resolve) => {
    const child = options.fdatasync
      ? spawn('sh', ['-c', 'file=$1; shift; curl "$@" && sync -d "$file"', 'curl-then-sync', file, ...args])
      : spawn('curl', args);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

interface Figures {
  sizeMiB: number;
  rssSizeMiB: number;
  capMiBps: number;
  crc: { ours: number; impl: string; npm: number };
  single: Timed;
  parallel: Timed;
  curlBest: number;
  durableCurlBest: number;
  oursBest: number;
  serviceBest: number;
  huge: Timed;
}

function report(f: Figures): string {
  const rate = (seconds: number) => (f.sizeMiB / seconds).toFixed(0);
  const rows = [
    [
      `CRC64 throughput, this project (${f.crc.impl})`,
      `${f.crc.ours.toFixed(0)} MiB/s`,
      `${(f.crc.ours / f.crc.npm).toFixed(2)}x crc64-ecma182.js (${f.crc.npm.toFixed(0)} MiB/s)`,
      'not the bottleneck',
    ],
    [
      `${f.sizeMiB} MiB, ${f.capMiBps} MiB/s per connection: 8 parallel parts vs one stream`,
      `${f.parallel.seconds.toFixed(1)} s vs ${f.single.seconds.toFixed(1)} s`,
      `${(f.single.seconds / f.parallel.seconds).toFixed(2)}x faster`,
      'at least 6x',
    ],
    [
      `${f.sizeMiB} MiB uncapped on loopback: oss-download get vs curl, to disk`,
      `${rate(f.oursBest)} vs ${rate(f.curlBest)} MiB/s`,
      `${((f.curlBest / f.oursBest) * 100).toFixed(0)}% of curl`,
      'at least 80%',
    ],
    [
      `${f.sizeMiB} MiB uncapped on loopback: the service's POST /v1/downloads?wait=true vs curl, to disk`,
      `${rate(f.serviceBest)} vs ${rate(f.curlBest)} MiB/s`,
      `${((f.curlBest / f.serviceBest) * 100).toFixed(0)}% of curl`,
      'at least 80%',
    ],
    [
      `the same, against curl then \`sync -d\` (fdatasync, as durable as the downloads)`,
      `${rate(f.oursBest)} (get), ${rate(f.serviceBest)} (service) vs ${rate(f.durableCurlBest)} MiB/s`,
      `${((f.durableCurlBest / f.oursBest) * 100).toFixed(0)}% (get), ${((f.durableCurlBest / f.serviceBest) * 100).toFixed(0)}% (service)`,
      '',
    ],
    [`peak RSS of oss-download get, ${f.rssSizeMiB} MiB object`, `${((f.huge.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`, '', 'under 200 MiB'],
  ];
  return [
    `## Run of ${new Date().toISOString()}`,
    '',
    `\`npm run bench:download\` on ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? 'unknown'}), Node.js ${process.version}.`,
    'Every download is `oss-download get` in a child process, or a job of the built service (started once, warmed up with one download), against the OSS emulator on loopback, and ends with its CRC64 verified.',
    'The emulator runs in the benchmark process and shares the CPUs with the downloader and curl.',
    `Load average when the run ended: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} (figures from a busy machine understate both sides).`,
    '',
    '| what | measured | ratio to the baseline of the same run | goal (issue 3) |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

const RESULTS_TITLE = [
  '# Download benchmark results',
  '',
  '`npm run bench:download` puts its newest run first and keeps the earlier ones below; bench/ANALYSIS.md reads them.',
  '',
].join('\n');

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
