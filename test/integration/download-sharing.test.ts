import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AllowList } from '../../src/access-policy';
import type { Checkpoint } from '../../src/downloads/checkpoint';
import { OPERATOR } from '../../src/downloads/download-job';
import { DownloadManager } from '../../src/downloads/download-manager';
import { sideFilesOf } from '../../src/downloads/download-path';
import { defaultRetryPolicy } from '../../src/downloads/retry';
import { createLogger } from '../../src/logger';
import { BUCKET, startStack, type Stack } from '../support/stack';
import { filesUnder } from '../support/downloads';

/**
 * The download manager shared by several callers, over the real ali-oss store
 * and the OSS emulator: what a checkpoint found at start may resume, the order
 * queued jobs start in, and disk space shared by concurrent jobs.
 */

const MiB = 1024 * 1024;
const CONFIG = { concurrency: 1, thresholdBytes: 64 * MiB, partSizeBytes: 16 * MiB, parallelism: 8, filesParallelism: 8, resumeOnStart: true };

describe('checkpoints found at start (DOWNLOAD_RESUME_ON_START)', () => {
  let stack: Stack;
  let root: string;
  let logs: string[];
  beforeAll(async () => (stack = await startStack()));
  afterAll(() => stack.close());
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'oss-download-resume-'));
    logs = [];
    stack.oss.resetCounters();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const manager = (allow: AllowList) =>
    new DownloadManager({
      store: stack.store,
      root,
      allow,
      config: CONFIG,
      clock: stack.serviceClock,
      logger: createLogger('warn', { write: (line: string) => logs.push(line) }),
      retry: { ...defaultRetryPolicy, sleep: async () => undefined },
    });

  /** A checkpoint and its temporary file at `relative`, as a local writer (or a run with a wider OSS_ALLOW) could leave them. */
  function plant(relative: string, checkpoint: Partial<Checkpoint>): { temp: string; checkpoint: string } {
    const dir = path.join(root, path.dirname(relative));
    mkdirSync(dir, { recursive: true });
    const side = sideFilesOf(path.basename(relative));
    const record: Checkpoint = {
      version: 1,
      bucket: BUCKET,
      key: 'secret/s.txt',
      path: relative,
      overwrite: false,
      etag: '"E"',
      size: 6,
      crc64: null,
      partSize: 16 * MiB,
      thresholdBytes: 64 * MiB,
      parts: {},
      ...checkpoint,
    };
    const files = { temp: path.join(dir, side.temp), checkpoint: path.join(dir, side.checkpoint) };
    writeFileSync(files.checkpoint, JSON.stringify(record));
    writeFileSync(files.temp, 'secret');
    return files;
  }

  it.each([
    ['an object outside OSS_ALLOW', 'stolen.txt', { key: 'secret/s.txt' }],
    ['a bucket outside OSS_ALLOW', 'other.txt', { bucket: 'other-bucket', key: 'pub/a.txt' }],
    ['a key with dot segments', 'dots.txt', { key: 'pub/../secret/s.txt' }],
    ['another path than where it lies', 'here.txt', { key: 'pub/a.txt', path: 'elsewhere.txt' }],
  ])('discards a checkpoint for %s with its bytes, asks OSS nothing, and logs why', async (_name, relative, fields) => {
    stack.oss.putObject(BUCKET, 'secret/s.txt', 'secret');
    const planted = plant(relative, fields);
    const resumed = await manager([{ bucket: BUCKET, prefix: 'pub/' }]).resumeFromCheckpoints();
    expect(resumed).toEqual([]);
    expect(existsSync(planted.temp)).toBe(false);
    expect(existsSync(planted.checkpoint)).toBe(false);
    expect(stack.oss.requests).toEqual([]);
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ msg: 'download checkpoint discarded', path: relative }),
    ]);
  });

  it("resumes one that passes today's rules, as a job of the operator: visible when open, to no token", async () => {
    stack.oss.putObject(BUCKET, 'pub/a.txt', 'public');
    plant('models/a.txt', { key: 'pub/a.txt' });
    const jobs = manager([{ bucket: BUCKET, prefix: 'pub/' }]);
    const [job] = await jobs.resumeFromCheckpoints();
    await job.done;
    expect(job.state).toBe('succeeded');
    expect(job.request.owner).toBe(OPERATOR);
    expect(jobs.list().map((j) => j.id)).toEqual([job.id]);
    expect(jobs.list('downloader')).toEqual([]);
    expect(jobs.get(job.id, 'downloader')).toBeUndefined();
    expect(filesUnder(root)).toEqual(['models/a.txt']);
  });
});

describe('the download queue between callers', () => {
  let stack: Stack;
  beforeAll(async () => (stack = await startStack({ downloads: { config: CONFIG } })));
  afterAll(() => stack.close());

  it("starts another caller's job before the rest of one caller's backlog", async () => {
    const jobs = stack.downloads!;
    for (const key of ['a1', 'a2', 'a3', 'b1']) stack.oss.putObject(BUCKET, key, key);
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 1, match: { key: 'a1' } });
    stack.oss.resetCounters();
    const submit = (owner: string, key: string) => jobs.submit({ owner, bucket: BUCKET, key, path: `queue/${key}`, overwrite: false });
    const a1 = (await submit('a', 'a1')).job;
    const rest = [await submit('a', 'a2'), await submit('a', 'a3'), await submit('b', 'b1')].map((r) => r.job);
    expect(rest.map((j) => j.state)).toEqual(['queued', 'queued', 'queued']);
    await jobs.cancel(a1.id);
    await Promise.all(rest.map((j) => j.done));
    const started = stack.oss.requests.filter((r) => r.method === 'HEAD').map((r) => r.key);
    expect(started).toEqual(['a1', 'b1', 'a2', 'a3']);
  });
});

/**
 * Two jobs that cannot both fit, on a real small file system. Mounting a
 * tmpfs needs root (CI runs as root); elsewhere the test says so and is skipped.
 */
describe('free space shared by concurrent jobs', () => {
  let stack: Stack;
  let mount: string | undefined;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oss-download-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
      mount = dir;
    } catch (err) {
      if (process.env.CI === 'true') throw err;
      process.stderr.write(`\n*** free-space tests skipped: cannot mount a tmpfs here (${String(err)}) ***\n\n`);
    }
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
    if (mount) execFileSync('umount', [mount]);
    if (mount) rmSync(mount, { recursive: true, force: true });
  });

  it('answers 507 to the job that does not fit beside a running one, not ENOSPC as 500', async () => {
    if (!mount) return;
    stack.oss.putGeneratedObject(BUCKET, 'big-1.bin', 5 * MiB, 1);
    stack.oss.putGeneratedObject(BUCKET, 'big-2.bin', 5 * MiB, 2);
    const jobs = new DownloadManager({
      store: stack.store,
      root: mount,
      allow: '*',
      config: { ...CONFIG, concurrency: 2 },
      clock: stack.serviceClock,
    });
    const submitted = await Promise.all(
      ['big-1.bin', 'big-2.bin'].map((key) => jobs.submit({ owner: '(open)', bucket: BUCKET, key, path: key, overwrite: false })),
    );
    await Promise.all(submitted.map((s) => s.job.done));
    const outcomes = submitted.map((s) => [s.job.state, s.job.error?.code ?? null]).sort();
    expect(outcomes).toEqual([
      ['failed', 'InsufficientStorage'],
      ['succeeded', null],
    ]);
    expect(submitted.find((s) => s.job.error)!.job.error!.status).toBe(507);
  });
});
