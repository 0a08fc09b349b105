import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The real entry point (`node dist/src/server.js`, what `npm start` runs) as a child process,
 * configured by environment variables only, as an operator would start it. Used by the netns
 * scenarios, where the child inherits the private network namespace. Needs `npm run build`.
 */

const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const SERVER_ENTRY = resolve(PROJECT_ROOT, 'dist', 'src', 'server.js');

export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly pid: number;
  readonly port: number;
  /** Sends a signal without waiting (SIGHUP: reload the tokens file). */
  signal(signal: NodeJS.Signals): void;
  /** `http://127.0.0.1:{port}` */
  readonly baseUrl: string;
  /** Everything the service wrote to stdout and stderr so far. */
  output(): string;
  /** Its stdout lines that parse as JSON (pino's log lines). */
  logLines(): Record<string, unknown>[];
  /** Resolves with the first log line, written or to come, that `predicate` accepts; rejects after `timeoutMs`. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends `signal` and waits for the exit; SIGKILLs and rejects when it takes longer than `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ServiceExit>;
  /** SIGKILL, for clean-up after a failure; a no-op once the process has exited. */
  kill(): void;
}

const running = new Set<ChildProcess>();

/** The environment of a service on an OS-chosen loopback port in front of an OSS emulator, reading only `bucket`. */
export function loopbackServiceEnv(ossEndpoint: string, bucket: string, extra: Readonly<Record<string, string>>): Record<string, string> {
  // Open (no caller tokens): these tests are about other things; test/security runs with tokens.
  return { PORT: '0', HOST: '127.0.0.1', OSS_REGION: 'cn-hangzhou', OSS_ENDPOINT: ossEndpoint, OSS_ALLOW: bucket, AUTH_MODE: 'none', ...extra };
}

/** Kill every service still running: call it from a scenario's `finally`. */
export function killAllServices(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * Starts the service with exactly `env` (nothing inherited) and resolves once it logged
 * 'listening' with its port. Rejects, after killing it, when it exits first or takes longer
 * than `timeoutMs`.
 */
export function startService(
  env: Readonly<Record<string, string>>,
  options: { timeoutMs?: number; /** Another copy of the project (its dist/src/server.js). */ root?: string } = {},
): Promise<ServiceProcess> {
  const root = options.root ?? PROJECT_ROOT;
  const entry = resolve(root, 'dist', 'src', 'server.js');
  if (!existsSync(entry)) {
    return Promise.reject(new Error(`${entry} is missing: run \`npm run build\` first`));
  }
  const child = spawn(process.execPath, [entry], { cwd: root, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<ServiceExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    });
  });
  const logLines = () => parseJsonLines(stdout);

  const listening = new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not log 'listening' within ${options.timeoutMs ?? 10_000} ms:\n${output}`));
    }, options.timeoutMs ?? 10_000);
    const onData = () => {
      const line = logLines().find((entry) => entry.msg === 'listening' && typeof entry.port === 'number');
      if (!line) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolvePort(line.port as number);
    };
    child.stdout.on('data', onData);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${exit.code ?? exit.signal}) before listening:\n${output}`));
    });
  });

  return listening.then((port) => ({
    pid: child.pid!,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    logLines,
    waitForLog: (predicate, timeoutMs = 10_000) =>
      new Promise((resolveLine, reject) => {
        const check = () => {
          const line = logLines().find(predicate);
          if (!line) return;
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolveLine(line);
        };
        const timer = setTimeout(() => {
          child.stdout.off('data', check);
          reject(new Error(`no such log line within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        child.stdout.on('data', check);
        check();
      }),
    signal: (signal: NodeJS.Signals) => void child.kill(signal),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop: async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the service did not exit within ${timeoutMs} ms of ${signal}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  }));
}

function parseJsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line still being written, or not pino's.
    }
  }
  return lines;
}
