import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MANIFEST_NAME } from '../../src/downloads/sync-manifest';
import { cliEnv, runCli } from '../support/cli-process';
import { filesUnder } from '../support/downloads';
import { BUCKET, startStack, type Stack } from '../support/stack';

/** `oss-download sync` and `get -r`, the real command line in a child process against the emulators. */

jest.setTimeout(60_000);
const MiB = 1024 * 1024;

describe('oss-download sync and get -r (the command line, as a child process)', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => (stack = await startStack()));
  afterAll(() => stack.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'oss-download-sync-'));
    stack.oss.clearFaults();
    stack.oss.resetCounters();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const gets = () => stack.oss.requests.filter((r) => r.method === 'GET' && r.key !== '').map((r) => r.key);

  it('get -r downloads every key under the prefix, prints a summary, and a second run downloads nothing', async () => {
    for (const key of ['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deeper/c.txt']) stack.oss.putObject(BUCKET, key, key);
    const first = await runCli(['get', '-r', `oss://${BUCKET}/tree/`, dir], cliEnv(stack)).exited;
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^3 downloaded, 0 already in place, 0 failed; .* in \d+:\d\d\n$/);
    expect(filesUnder(dir)).toEqual([MANIFEST_NAME, 'a.txt', 'sub/b.txt', 'sub/deeper/c.txt']);
    expect(readFileSync(path.join(dir, 'sub/deeper/c.txt'), 'utf8')).toBe('tree/sub/deeper/c.txt');
    stack.oss.resetCounters();
    const second = await runCli(['sync', `oss://${BUCKET}/tree/`, dir], cliEnv(stack)).exited;
    expect(second.stdout).toMatch(/^0 downloaded, 3 already in place, 0 failed/);
    expect(gets()).toEqual([]);
  });

  it('sync --delete removes exactly the files it wrote whose object is gone', async () => {
    for (const key of ['d/keep.txt', 'd/gone.txt']) stack.oss.putObject(BUCKET, key, key);
    await runCli(['sync', `oss://${BUCKET}/d/`, dir], cliEnv(stack)).exited;
    writeFileSync(path.join(dir, 'local.txt'), 'mine');
    stack.oss.deleteObject(BUCKET, 'd/gone.txt');
    const result = await runCli(['sync', '--delete', `oss://${BUCKET}/d/`, dir], cliEnv(stack)).exited;
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/1 deleted/);
    expect(filesUnder(dir)).toEqual([MANIFEST_NAME, 'keep.txt', 'local.txt']);
  });

  it('exits 7 when some files failed and others succeeded, naming each failure', async () => {
    for (const key of ['p/ok.txt', 'p/theirs.txt']) stack.oss.putObject(BUCKET, key, key);
    writeFileSync(path.join(dir, 'theirs.txt'), 'a local file in the way');
    const result = await runCli(['sync', `oss://${BUCKET}/p/`, dir], cliEnv(stack)).exited;
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/failed p\/theirs\.txt: .*\(Conflict\)/);
    expect(readFileSync(path.join(dir, 'theirs.txt'), 'utf8')).toBe('a local file in the way');
    const forced = await runCli(['sync', '-f', `oss://${BUCKET}/p/`, dir], cliEnv(stack)).exited;
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(dir, 'theirs.txt'), 'utf8')).toBe('p/theirs.txt');
  });

  it('after SIGKILL mid-job, a rerun fetches only what is missing', async () => {
    for (let i = 0; i < 6; i += 1) stack.oss.putObject(BUCKET, `k/small-${i}.txt`, `small ${i}`);
    stack.oss.putGeneratedObject(BUCKET, 'k/slow.bin', 4 * MiB, 9);
    // The slow file arrives at 256 KiB/s: the small ones are done (and in the manifest) long before it is.
    stack.oss.injectFault({ kind: 'bandwidth', bytesPerSecond: 256 * 1024, match: { key: 'k/slow.bin' }, times: Infinity });
    const run = runCli(['sync', '--threshold', '1', '--part-size', '1', '-p', '4', `oss://${BUCKET}/k/`, dir], cliEnv(stack));
    await whenChanged(dir, () => manifestFiles(dir) >= 6, 20_000);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    expect(existsSync(path.join(dir, 'slow.bin'))).toBe(false);
    stack.oss.clearFaults();
    stack.oss.resetCounters();
    const rerun = await runCli(['sync', '--threshold', '1', '--part-size', '1', '-p', '4', `oss://${BUCKET}/k/`, dir], cliEnv(stack)).exited;
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/^1 downloaded, 6 already in place/);
    expect(new Set(gets())).toEqual(new Set(['k/slow.bin']));
    expect(readFileSync(path.join(dir, 'slow.bin')).equals(stack.oss.expectedBytes(BUCKET, 'k/slow.bin'))).toBe(true);
  });

  it.each([
    ['--delete with get -r', ['get', '-r', '--delete', `oss://${BUCKET}/x/`, 'DIR'], 2],
    ['a prefix with dot segments', ['sync', `oss://${BUCKET}/a/../`, 'DIR'], 2],
    ['no folder', ['sync', `oss://${BUCKET}/x/`], 2],
  ])('refuses %s with a usage error', async (_name, args, code) => {
    const result = await runCli(
      args.map((a) => a.replace('DIR', dir)),
      cliEnv(stack),
    ).exited;
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(/^oss-download: /);
  });

  it('prints its usage for sync --help', async () => {
    const result = await runCli(['sync', '--help'], cliEnv(stack)).exited;
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^usage: oss-download sync \[options\] oss:\/\/BUCKET\/PREFIX LOCAL_DIR/);
  });
});

function manifestFiles(dir: string): number {
  try {
    return Object.keys((JSON.parse(readFileSync(path.join(dir, MANIFEST_NAME), 'utf8')) as { files: object }).files).length;
  } catch {
    return 0;
  }
}

/** Resolves once `condition` holds, checked on every change in `dir` (the manifest is renamed into place): an event, bounded in time. */
function whenChanged(dir: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => finish(new Error('condition not met in time')), timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    };
    watcher.on('change', () => {
      if (condition()) finish();
    });
    if (condition()) finish();
  });
}
