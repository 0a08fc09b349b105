/**
 * Where a prefix job's CPU goes: runs the 1,000 x 64 KiB prefix job
 * (BENCH_SMALL_FILES) on the built service and reports CPU per file of the
 * service's main thread, of libuv's thread pool and of its other threads
 * (from /proc/PID/task/TID/stat), and of the OSS emulator (this process),
 * separately, so a rate can be judged for the service alone.
 * PROFILE_DIR=dir adds `node --cpu-prof` of the service (written at exit).
 * PROFILE_PARALLELISM sets DOWNLOAD_FILES_PARALLELISM (default 8).
 * PROFILE_BEFORE_ENTRY=path/to/older/dist/src/server.js measures an older
 * build beside this one, in interleaved rounds on the same emulator.
 * PROFILE_STRACE=1 prints each job's system calls (strace -c -f);
 * PROFILE_THREADS=1 each thread's CPU. UV_THREADPOOL_SIZE is passed on to the services.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUCKET, startEmulators } from './lib/emulators';
import { startService, type Child } from './lib/processes';

const CLOCK_TICKS_PER_SECOND = 100;

async function main(): Promise<void> {
  const files = Number(process.env.BENCH_SMALL_FILES ?? 1000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const work = mkdtempSync(path.join(os.tmpdir(), 'oss-download-prefix-profile-'));
  const emulators = await startEmulators();
  for (let i = 0; i < files; i++) emulators.oss.putGeneratedObject(BUCKET, `small/${String(i).padStart(4, '0')}.bin`, 64 * 1024, i + 1);
  const profileDir = process.env.PROFILE_DIR;
  const env = {
    ...emulators.serviceEnv({ LOG_LEVEL: 'warn', DOWNLOAD_ROOT: work, DOWNLOAD_ROOT_SHARED: 'true' }),
    DOWNLOAD_FILES_PARALLELISM: process.env.PROFILE_PARALLELISM ?? '8',
    ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}),
  };
  const services: Array<{ name: string; service: Child }> = [
    { name: 'this build', service: await startService(env, { nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] }) },
  ];
  const beforeEntry = process.env.PROFILE_BEFORE_ENTRY;
  if (beforeEntry) services.push({ name: 'older build', service: await startService(env, { entry: beforeEntry }) });
  try {
    for (const { service } of services) {
      await job(service, 'warm-up');
      rmSync(path.join(work, 'warm-up'), { recursive: true });
    }
    for (let round = 0; round < rounds; round++) {
      for (const { name, service } of services) {
        process.stdout.write(`round ${round + 1}, ${name}: ${await measuredJob(service, work, files)}\n`);
      }
    }
  } finally {
    await Promise.all(services.map(({ service }) => service.stop()));
    rmSync(work, { recursive: true, force: true });
    await emulators.close();
  }
}

/** One prefix job into a fresh folder, and what it cost per file. */
async function measuredJob(service: Child, work: string, files: number): Promise<string> {
  const strace = process.env.PROFILE_STRACE ? await traceSystemCalls(service.pid) : undefined;
  const before = threads(service.pid);
  const emulatorBefore = process.cpuUsage();
  const start = performance.now();
  await job(service, 'p');
  const seconds = (performance.now() - start) / 1000;
  const emulator = process.cpuUsage(emulatorBefore);
  const after = threads(service.pid);
  if (strace) process.stdout.write(await strace());
  rmSync(path.join(work, 'p'), { recursive: true });
  const byKind = new Map<string, number>();
  for (const [tid, t] of after) {
    const used = t.seconds - (before.get(tid)?.seconds ?? 0);
    byKind.set(t.kind, (byKind.get(t.kind) ?? 0) + used);
    if (process.env.PROFILE_THREADS)
      process.stdout.write(`  ${tid} ${t.kind} started at tick ${t.start}: ${((used * 1000) / files).toFixed(2)} ms per file\n`);
  }
  const perFile = (s: number) => `${((s * 1000) / files).toFixed(2)} ms`;
  const total = [...byKind.values()].reduce((a, b) => a + b, 0);
  const parts = [...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([k, s]) => `${k} ${perFile(s)}`);
  return (
    `${(files / seconds).toFixed(0)} files/s; CPU per file: service ${perFile(total)} (${parts.join(', ')}), ` +
    `emulator ${perFile((emulator.user + emulator.system) / 1e6)}; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`
  );
}

/** CPU seconds so far of each thread of `pid`, named by what it is. */
function threads(pid: number): Map<string, { kind: string; start: number; seconds: number }> {
  const out = new Map<string, { kind: string; start: number; seconds: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const kind = tid === String(pid) ? 'main thread' : comm.startsWith('libuv-worker') ? 'thread pool' : `other (${comm.replace(/[0-9]+$/, '')})`;
      out.set(tid, { kind, start: Number(fields[19]), seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Counts the service's system calls (strace -c) until the returned function is called; it resolves to strace's table. */
async function traceSystemCalls(pid: number): Promise<() => Promise<string>> {
  const child = spawn('strace', ['-f', '-c', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let table = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (table += c));
  await new Promise((done) => setTimeout(done, 500)); // strace attaches to every thread
  return () =>
    new Promise((done) => {
      child.once('close', () => done(table));
      child.kill('SIGINT');
    });
}

async function job(service: Child, folder: string): Promise<void> {
  const res = await fetch(`${service.url}/v1/downloads?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket: BUCKET, prefix: 'small/', path: folder }),
  });
  if (res.status !== 201) throw new Error(`the prefix job failed (${res.status}): ${await res.text()}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`profile: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
