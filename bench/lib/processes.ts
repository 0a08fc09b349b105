import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { resolve } from 'node:path';

/**
 * Child processes for the benchmarks, and what /proc says about them. The
 * service, the baseline proxy and every load generator run in their own
 * process; the emulators run in the harness process.
 */

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const SERVICE_ENTRY = process.env.BENCH_SERVICE_ENTRY ?? resolve(PROJECT_ROOT, 'dist', 'src', 'server.js');
const TSX_LOADER = ['--import', 'tsx'];
/** Linux reports utime and stime in clock ticks; 100 on every mainstream kernel config (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Child {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });
}

/** The built service (`node dist/src/server.js`), configured by environment only; its log goes to a file, not through this process. */
export async function startService(
  env: Record<string, string>,
  options: { nodeArgs?: string[]; logFile?: string; entry?: string } = {},
): Promise<Child> {
  const port = await freePort();
  const child = spawnLogged(
    [...(options.nodeArgs ?? []), options.entry ?? SERVICE_ENTRY],
    { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    options.logFile ?? '/dev/null',
  );
  return ready(child, `http://127.0.0.1:${port}`, '/healthz');
}

/** The framework-less baseline proxy (bench/baseline-proxy.ts). */
export async function startBaseline(upstream: string): Promise<Child> {
  const port = await freePort();
  const child = spawnLogged(
    [...TSX_LOADER, resolve(__dirname, '..', 'baseline-proxy.ts')],
    { PATH: process.env.PATH ?? '', PORT: String(port), UPSTREAM: upstream, REGION: 'cn-hangzhou' },
    '/dev/null',
  );
  return ready(child, `http://127.0.0.1:${port}`, '/healthz');
}

function spawnLogged(args: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return child;
}

async function ready(child: ChildProcess, url: string, probe: string): Promise<Child> {
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`child exited (${child.exitCode}) before answering ${probe}`);
    if ((await status(url + probe)) === 200) {
      return {
        pid: child.pid!,
        url,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        },
      };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${url}${probe} did not answer 200 within 10 s`);
}

function status(url: string): Promise<number> {
  return new Promise((done) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', () => done(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** User plus system CPU seconds the process has used so far (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Resident set size now (VmRSS) and at its peak since the process started (VmHWM), in bytes. */
export function memory(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 250): { stop(): number[] } {
  const samples: number[] = [];
  const take = () => {
    try {
      samples.push(memory(pid).rss);
    } catch {
      // the process is gone
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Runs a command to completion (bounded by `timeoutMs`) and returns its stdout. */
export function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done(out);
      else fail(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}: ${err.slice(0, 500)}`));
    });
  });
}

/** A node script in this folder, run with the TypeScript loader. */
export function runScript(script: string, args: string[], timeoutMs: number): Promise<string> {
  return run(process.execPath, [...TSX_LOADER, resolve(__dirname, '..', script), ...args], timeoutMs);
}
