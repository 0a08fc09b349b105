import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The network-namespace test tier. @alicloud/credentials hard-codes the ECS metadata address
 * 100.100.100.200:80, so its real ECS code path can only be tested where that address is ours:
 * a private user+network namespace (`unshare -rn`) with the address on its own loopback. No
 * packet can leave such a namespace: it has no interface but `lo`.
 *
 * Jest does not run inside the namespace. A test spawns one scenario script in it; the script
 * prints one result line (printNetnsResult) that the test parses and asserts on.
 */

export const ECS_METADATA_HOST = '100.100.100.200';
const RESULT_PREFIX = 'NETNS_RESULT ';
const PROJECT_ROOT = resolve(__dirname, '..', '..');
const SET_UP_LOOPBACK = `ip link set lo up && ip addr add ${ECS_METADATA_HOST}/32 dev lo`;

export interface NetnsRun {
  /** Exit code; null when the process was killed (see timedOut). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The scenario's printNetnsResult value; undefined when it printed none. */
  readonly result: unknown;
  readonly timedOut: boolean;
  /** Wall time from spawn to exit, namespace set-up and TypeScript loading included. */
  readonly durationMs: number;
}

let probe: { readonly ok: boolean; readonly reason: string } | undefined;

/** Whether `unshare -rn` and `ip` can give us a private namespace with the metadata address; probed once. */
export function netnsAvailable(): boolean {
  return probeNetns().ok;
}

function probeNetns(): { readonly ok: boolean; readonly reason: string } {
  if (probe) return probe;
  const run = spawnSync('unshare', ['-rn', 'sh', '-c', SET_UP_LOOPBACK], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) {
    probe = { ok: false, reason: `cannot run unshare (util-linux): ${run.error.message}` };
  } else if (run.status !== 0) {
    probe = { ok: false, reason: `unshare -rn + ip (iproute2) failed: ${run.stderr.trim() || `exit ${run.status}`}` };
  } else {
    probe = { ok: true, reason: '' };
  }
  return probe;
}

/**
 * Runs `scriptPath` (TypeScript, relative to the project root) with Node and tsx inside a fresh
 * private network namespace whose loopback carries 100.100.100.200. The whole process group is
 * killed after `timeoutMs`.
 */
export function runInNetns(scriptPath: string, args: readonly string[], options: { timeoutMs: number }): Promise<NetnsRun> {
  const started = performance.now();
  // "$0" "$@" pass the command through sh untouched: no quoting of paths or arguments.
  const command = [process.execPath, '--import', 'tsx', resolve(PROJECT_ROOT, scriptPath), ...args];
  const child = spawn('unshare', ['-rn', 'sh', '-c', `${SET_UP_LOOPBACK} && exec "$0" "$@"`, ...command], {
    cwd: PROJECT_ROOT,
    env: scenarioEnv(),
    detached: true, // its own process group, so a timeout kills everything it started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, options.timeoutMs);

  return new Promise((resolvePromise, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const durationMs = Math.round(performance.now() - started);
      resolvePromise({ code, stdout, stderr, result: parseResult(stdout), timedOut, durationMs });
    });
  });
}

/** For scenario scripts: the one line runInNetns reads back as `result`. */
export function printNetnsResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/**
 * `describe` for the namespace tier. Without namespaces it warns loudly and skips, so a laptop
 * without them still runs the rest; under CI=true it fails instead, so CI cannot go green
 * without having tested the real ECS credential path.
 */
export function describeNetns(name: string, fn: () => void): void {
  const { ok, reason } = probeNetns();
  if (ok) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('runs in a private network namespace (required under CI=true)', () => {
        throw new Error(`CI=true but no private network namespace is available: ${reason}`);
      });
    });
  } else {
    console.warn(skipBanner(name, reason));
    describe.skip(name, fn);
  }
}

function skipBanner(name: string, reason: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! SKIPPED: "${name}"`,
    `!! No private network namespace: ${reason}`,
    '!! The real @alicloud/credentials ECS RAM role path was NOT tested.',
    '!! Needs `unshare -rn` (util-linux) and `ip` (iproute2), and unprivileged user',
    '!! namespaces (or root). Under CI=true this is a failure, not a skip.',
    bar,
  ].join('\n');
}

/** The scenario sets the library's variables itself; the developer's own must not leak in. */
function scenarioEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('ALIBABA_CLOUD_')) delete env[key];
  }
  return env;
}

function parseResult(stdout: string): unknown {
  const line = stdout
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith(RESULT_PREFIX));
  return line === undefined ? undefined : JSON.parse(line.slice(RESULT_PREFIX.length));
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
