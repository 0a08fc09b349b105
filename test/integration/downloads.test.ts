import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobRequest, PrefixJobRequest } from '../../src/downloads/download-job';
import { DownloadManager } from '../../src/downloads/download-manager';
import { defaultRetryPolicy } from '../../src/downloads/retry';
import type { ObjectStore } from '../../src/oss/object-store';
import { api, awaitFault, checkpointOf, checkpointWith, filesUnder, postDownload, rangesFetched } from '../support/downloads';
import { awaitRequestEnd, BUCKET, startStack, type Stack } from '../support/stack';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Small parts, so a few MiB exercise the parallel path. */
const VERSIONED = 'history-bucket';
const PARTS = { thresholdBytes: 1 * MiB, partSizeBytes: 256 * KiB, parallelism: 4, concurrency: 2, filesParallelism: 8 };

describe('POST /v1/downloads', () => {
  let stack: Stack;
  let root: string;

  beforeAll(async () => {
    stack = await startStack({ downloads: { config: PARTS } });
    root = stack.downloadRoot!;
    stack.oss.putObject(BUCKET, 'hello.txt', 'hello, disk\n');
    stack.oss.putGeneratedObject(BUCKET, 'big.bin', 3 * MiB + 12_345, 5);
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.oss.clearFaults();
    stack.oss.resetCounters();
  });

  it('answers 201 with ?wait=true and leaves exactly the object on disk', async () => {
    const res = await postDownload(stack, { bucket: BUCKET, key: 'hello.txt', path: 'small/hello.txt' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/downloads/${res.body.id}`);
    expect(res.body).toMatchObject({ state: 'succeeded', bytesDone: 12, bytesTotal: 12, error: null });
    expect(res.body.crc64).toBe(stack.oss.objectInfo(BUCKET, 'hello.txt')!.crc64.toString());
    expect(readFileSync(path.join(root, 'small/hello.txt'), 'utf8')).toBe('hello, disk\n');
    expect(filesUnder(path.join(root, 'small'))).toEqual(['hello.txt']);
  });

  it('fetches a large object as parallel ranged parts, each pinned to the ETag with If-Match', async () => {
    const info = stack.oss.objectInfo(BUCKET, 'big.bin')!;
    const res = await postDownload(stack, { bucket: BUCKET, key: 'big.bin', path: 'big.bin' });
    expect(res.status).toBe(201);
    expect(res.body.crc64).toBe(info.crc64.toString());
    expect(readFileSync(path.join(root, 'big.bin')).equals(stack.oss.expectedBytes(BUCKET, 'big.bin'))).toBe(true);
    const gets = stack.oss.requests.filter((r) => r.method === 'GET' && r.key === 'big.bin');
    expect(gets).toHaveLength(Math.ceil(info.size / PARTS.partSizeBytes));
    expect(gets.every((r) => r.headers['if-match'] === info.etag)).toBe(true);
    expect(rangesFetched(stack.oss.requests, 'big.bin')).toContain(`${12 * 256 * KiB}-${info.size - 1}`);
  });

  it('answers 202 with a Location and shows the job through GET until it ends', async () => {
    const res = await postDownload(stack, { bucket: BUCKET, key: 'big.bin', path: 'async/big.bin' }, false);
    expect(res.status).toBe(202);
    expect(['queued', 'running', 'succeeded']).toContain(res.body.state);
    await stack.downloads!.get(String(res.body.id))!.done;
    const job = await api(stack, 'GET', String(res.headers.get('location')));
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ state: 'succeeded', bytesDone: 3 * MiB + 12_345, bytesTotal: 3 * MiB + 12_345 });
    expect(job.body).toHaveProperty('throughput'); // bytes/s by the service clock (a manual one here)
    const list = await api(stack, 'GET', '/v1/downloads');
    expect((list.body.jobs as Array<{ id: string }>).map((j) => j.id)).toContain(res.body.id);
  });

  it('refuses an existing file with 409 unless overwrite is true', async () => {
    writeFileSync(path.join(root, 'existing.txt'), 'keep me');
    const refused = await postDownload(stack, { bucket: BUCKET, key: 'hello.txt', path: 'existing.txt' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('Conflict');
    expect(readFileSync(path.join(root, 'existing.txt'), 'utf8')).toBe('keep me');
    const replaced = await postDownload(stack, { bucket: BUCKET, key: 'hello.txt', path: 'existing.txt', overwrite: true });
    expect(replaced.status).toBe(201);
    expect(readFileSync(path.join(root, 'existing.txt'), 'utf8')).toBe('hello, disk\n');
  });

  it('makes one job of concurrent identical requests, and refuses another object on the same path', async () => {
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 1000, match: { key: 'big.bin' } });
    const stalled = awaitFault(stack, 'big.bin', 'stall-mid-body');
    const body = { bucket: BUCKET, key: 'big.bin', path: 'same/big.bin' };
    const answers = await Promise.all([postDownload(stack, body, false), postDownload(stack, body, false), postDownload(stack, body, false)]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const other = await postDownload(stack, { bucket: BUCKET, key: 'hello.txt', path: 'same/big.bin' }, false);
    expect(other.status).toBe(409);
    await stalled;
    await api(stack, 'DELETE', `/v1/downloads/${answers[0].body.id}`);
  });

  it('answers 403 NotAllowed outside OSS_ALLOW, before any OSS request', async () => {
    const res = await postDownload(stack, { bucket: 'other-bucket', key: 'x', path: 'x' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('NotAllowed');
    expect(stack.oss.requests).toHaveLength(0);
  });

  it.each([
    ['a missing key', { bucket: BUCKET, path: 'x' }],
    ['a bad bucket name', { bucket: 'B', key: 'x', path: 'x' }],
    ['overwrite that is not a boolean', { bucket: BUCKET, key: 'x', path: 'x', overwrite: 'yes' }],
  ])('answers 400 InvalidRequest for %s', async (_name, body) => {
    const res = await postDownload(stack, body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidRequest');
  });

  it('answers 400 for malformed JSON and 413 for an oversized body', async () => {
    expect((await api(stack, 'POST', '/v1/downloads', '{"bucket":')).status).toBe(400);
    const huge = JSON.stringify({ bucket: BUCKET, key: 'x', path: 'x', pad: 'x'.repeat(64 * KiB) });
    expect((await api(stack, 'POST', '/v1/downloads', huge)).status).toBe(413);
  });

  it('answers 404 for an unknown job and 405 for other methods', async () => {
    expect((await api(stack, 'GET', '/v1/downloads/nope')).status).toBe(404);
    expect((await api(stack, 'PUT', '/v1/downloads')).status).toBe(405);
  });

  it('fails with 507 InsufficientStorage when the object cannot fit, writing nothing', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'petabyte.bin', 2 ** 50, 9);
    const res = await postDownload(stack, { bucket: BUCKET, key: 'petabyte.bin', path: 'pb/petabyte.bin' });
    expect(res.status).toBe(507);
    expect(res.body.code).toBe('InsufficientStorage');
    expect(res.body.detail).toMatch(/needs \d+ more bytes/);
    expect(filesUnder(path.join(root, 'pb'))).toEqual([]);
    expect(stack.oss.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
  });
});

describe('download paths stay inside DOWNLOAD_ROOT', () => {
  let stack: Stack;
  let root: string;
  let outside: string;
  let before: string[];

  beforeAll(async () => {
    stack = await startStack({ downloads: { config: PARTS } });
    root = stack.downloadRoot!;
    stack.oss.putObject(BUCKET, 'payload.txt', 'payload');
    outside = mkdtempSync(path.join(tmpdir(), 'oss-download-outside-'));
    writeFileSync(path.join(outside, 'victim.txt'), 'untouched');
    symlinkSync(outside, path.join(root, 'escape'));
    symlinkSync(path.join(outside, 'victim.txt'), path.join(root, 'victim-link.txt'));
    mkdirSync(path.join(root, 'inside'));
    symlinkSync(path.join(root, 'inside'), path.join(root, 'inside-link'));
    before = filesUnder(root);
  });
  afterAll(async () => {
    await stack.close();
    rmSync(outside, { recursive: true, force: true });
  });

  it.each([
    ['a parent step', '../victim.txt'],
    ['parent steps after a folder', 'a/b/../../../victim.txt'],
    ['a lone parent step', '..'],
    ['an absolute path', '/tmp/victim.txt'],
    ['an absolute path inside the root', '/downloads/x'],
    ['a backslash traversal', '..\\victim.txt'],
    ['a NUL byte', 'a\u0000b.txt'],
    ['a control character', 'a\nb.txt'],
    ['a file name over 255 bytes', 'n'.repeat(300)],
    ['a path over 4096 bytes', 'd/'.repeat(2100) + 'f'],
    ['an empty path', ''],
    ['only dots', './.'],
    ['a symlinked folder pointing out', 'escape/victim.txt'],
    ['a new file below a symlinked folder pointing out', 'escape/new/file.txt'],
    ['a symlink file pointing out', 'victim-link.txt'],
  ])('refuses %s with 400 and writes nothing outside', async (_name, target) => {
    const res = await postDownload(stack, { bucket: BUCKET, key: 'payload.txt', path: target, overwrite: true });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidRequest');
    expect(filesUnder(outside)).toEqual(['victim.txt']);
    expect(readFileSync(path.join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
    expect(filesUnder(root)).toEqual(before);
    expect(existsSync(path.join(path.dirname(root), 'victim.txt'))).toBe(false);
  });

  it('takes percent-encoded dots literally: a folder named %2e%2e inside the root', async () => {
    const res = await postDownload(stack, { bucket: BUCKET, key: 'payload.txt', path: '%2e%2e/victim.txt' });
    expect(res.status).toBe(201);
    expect(readFileSync(path.join(root, '%2e%2e', 'victim.txt'), 'utf8')).toBe('payload');
  });

  it('does not follow a symlink even when it stays inside the root: what it points at may change during the job', async () => {
    const res = await postDownload(stack, { bucket: BUCKET, key: 'payload.txt', path: 'inside-link/ok.txt' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/inside-link.*symlink/);
    expect(filesUnder(path.join(root, 'inside'))).toEqual([]);
  });
});

describe('download failures leave no target and no temporary file', () => {
  let stack: Stack;
  let root: string;
  let tamperCrc = false;

  /** A store whose HEAD reports another CRC64, as a corrupted transfer would look. */
  const tampering = (store: ObjectStore): ObjectStore => ({
    getObject: (r) => store.getObject(r),
    listObjects: (r) => store.listObjects(r),
    listObjectVersions: (r) => store.listObjectVersions(r),
    headObject: async (r) => {
      const head = await store.headObject(r);
      return tamperCrc ? { ...head, headers: { ...head.headers, 'x-oss-hash-crc64ecma': '12345' } } : head;
    },
  });

  beforeAll(async () => {
    stack = await startStack({ downloads: { config: PARTS, wrapStore: tampering } });
    root = stack.downloadRoot!;
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    tamperCrc = false;
    stack.oss.clearFaults();
    stack.oss.resetCounters();
    stack.sleeps.length = 0;
  });

  it('retries a part whose connection dropped mid-body and ends byte-identical', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'drop.bin', 2 * MiB, 11);
    stack.oss.injectFault({ kind: 'drop-mid-body', afterBytes: 100_000, match: { key: 'drop.bin' } });
    const res = await postDownload(stack, { bucket: BUCKET, key: 'drop.bin', path: 'drop.bin' });
    expect(res.status).toBe(201);
    expect(readFileSync(path.join(root, 'drop.bin')).equals(stack.oss.expectedBytes(BUCKET, 'drop.bin'))).toBe(true);
    expect(stack.sleeps).toHaveLength(1); // one backoff, through the injected sleep
    const ranges = rangesFetched(stack.oss.requests, 'drop.bin');
    expect(ranges).toHaveLength(8 + 1);
    const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    expect(text).toMatch(/download_part_retries_total 1/);
  });

  it('fails with ObjectChanged when the object is replaced mid-download, leaving no target', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'replaced.bin', 2 * MiB, 12);
    const firstPart = awaitRequestEnd(stack, (r) => r.key === 'replaced.bin' && r.method === 'GET');
    stack.oss.events.once('request-end', () => stack.oss.replaceObject(BUCKET, 'replaced.bin'));
    const res = await postDownload(stack, { bucket: BUCKET, key: 'replaced.bin', path: 'replaced.bin' });
    await firstPart;
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ObjectChanged');
    expect(stack.oss.requests.some((r) => r.key === 'replaced.bin' && r.status === 412)).toBe(true);
    expect(filesUnder(root).filter((f) => f.includes('replaced'))).toEqual([]);
  });

  it('fails with ChecksumMismatch when the CRC64 does not match, leaving no target', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'corrupt.bin', 2 * MiB, 13);
    tamperCrc = true;
    const res = await postDownload(stack, { bucket: BUCKET, key: 'corrupt.bin', path: 'corrupt.bin' });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('ChecksumMismatch');
    expect(filesUnder(root).filter((f) => f.includes('corrupt'))).toEqual([]);
    const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    expect(text).toMatch(/download_crc_failures_total 1/);
  });

  it('removes the partial file when a running job is canceled', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'cancel.bin', 2 * MiB, 14);
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 50_000, match: { key: 'cancel.bin' } });
    const stalled = awaitFault(stack, 'cancel.bin', 'stall-mid-body');
    const started = await postDownload(stack, { bucket: BUCKET, key: 'cancel.bin', path: 'c/cancel.bin' }, false);
    await stalled;
    expect(filesUnder(path.join(root, 'c')).length).toBeGreaterThan(0); // the temporary file and checkpoint exist
    const res = await api(stack, 'DELETE', `/v1/downloads/${started.body.id}`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('canceled');
    expect(filesUnder(path.join(root, 'c'))).toEqual([]);
    expect((await api(stack, 'DELETE', `/v1/downloads/${started.body.id}`)).status).toBe(409);
  });

  it('gives up after the configured attempts with 502 and cleans up', async () => {
    stack.oss.putObject(BUCKET, 'flaky.txt', 'flaky');
    stack.oss.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable', match: { key: 'flaky.txt' }, times: 10 });
    const res = await postDownload(stack, { bucket: BUCKET, key: 'flaky.txt', path: 'flaky.txt' });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('UpstreamUnavailable');
    expect(filesUnder(root).filter((f) => f.includes('flaky'))).toEqual([]);
  });
});

describe('download queue and resume', () => {
  let stack: Stack;
  let root: string;

  beforeAll(async () => {
    stack = await startStack({ downloads: { config: { ...PARTS, concurrency: 1, parallelism: 1 } } });
    root = stack.downloadRoot!;
  });
  afterAll(() => stack.close());

  it('runs a bounded number of jobs and queues the rest', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'first.bin', 2 * MiB, 21);
    stack.oss.putObject(BUCKET, 'second.txt', 'second');
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 10_000, match: { key: 'first.bin' } });
    const stalled = awaitFault(stack, 'first.bin', 'stall-mid-body');
    const first = await postDownload(stack, { bucket: BUCKET, key: 'first.bin', path: 'first.bin' }, false);
    await stalled;
    const second = await postDownload(stack, { bucket: BUCKET, key: 'second.txt', path: 'second.txt' }, false);
    expect(second.body.state).toBe('queued');
    await api(stack, 'DELETE', `/v1/downloads/${first.body.id}`);
    await stack.downloads!.get(String(second.body.id))!.done;
    expect(readFileSync(path.join(root, 'second.txt'), 'utf8')).toBe('second');
  });
});

describe('download drain and resume (DOWNLOAD_RESUME_ON_START)', () => {
  let stack: Stack;
  let root: string;
  const config = { ...PARTS, parallelism: 2, resumeOnStart: true };
  const manager = () =>
    new DownloadManager({
      store: stack.store,
      root,
      allow: '*',
      config,
      clock: stack.serviceClock,
      retry: { ...defaultRetryPolicy, sleep: async () => undefined },
    });

  beforeAll(async () => {
    stack = await startStack({ downloads: { config } });
    root = stack.downloadRoot!;
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.oss.clearFaults();
    stack.oss.resetCounters();
  });

  /** Starts a job whose first part stalls, waits until the other 7 parts are in the checkpoint, then drains. */
  async function interruptedDownload(key: string, source: { bucket: string; versionId?: string } = { bucket: BUCKET }): Promise<void> {
    if (source.versionId === undefined) stack.oss.putGeneratedObject(source.bucket, key, 2 * MiB, 31);
    await interrupted({ ...source, key, path: `resume/${key}`, overwrite: false, owner: '(open)' }, path.join(root, 'resume', key));
    expect(filesUnder(path.join(root, 'resume')).filter((f) => f.includes(key))).toEqual([`.${key}.oss-download`, `.${key}.oss-download.json`]);
  }

  /** Submits `request` with the first part of `stalled` stalling, waits until its other 7 parts are in its checkpoint, then drains. */
  async function interrupted(request: JobRequest, stalled: string): Promise<void> {
    const key = 'key' in request ? request.key : `${request.prefix}${path.basename(stalled)}`;
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 10_000, match: { key } });
    const first = manager();
    mkdirSync(path.dirname(stalled), { recursive: true }); // watched before the job creates it
    const { job } = await first.submit(request);
    await checkpointWith(checkpointOf(stalled), 7);
    await first.drain();
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('NotReady');
    stack.oss.resetCounters();
  }

  it('keeps the checkpoint on drain and, at start, fetches only the part that was missing', async () => {
    await interruptedDownload('drained.bin');
    const [resumed] = await manager().resumeFromCheckpoints();
    await resumed.done;
    expect(resumed.state).toBe('succeeded');
    expect(rangesFetched(stack.oss.requests, 'drained.bin')).toEqual(['0-262143']);
    expect(readFileSync(path.join(root, 'resume', 'drained.bin')).equals(stack.oss.expectedBytes(BUCKET, 'drained.bin'))).toBe(true);
  });

  it('discards a checkpoint recorded for another version of the object, though its ETag and size are the same', async () => {
    stack.oss.createBucket(VERSIONED, { versioning: true });
    stack.oss.allow('oss-download-role', VERSIONED);
    const older = stack.oss.putGeneratedObject(VERSIONED, 'versioned.bin', 2 * MiB, 31);
    const newer = stack.oss.putGeneratedObject(VERSIONED, 'versioned.bin', 2 * MiB, 31);
    expect([newer.etag, newer.size]).toEqual([older.etag, older.size]);
    await interruptedDownload('versioned.bin', { bucket: VERSIONED, versionId: older.versionId });

    const { job } = await manager().submit({
      bucket: VERSIONED,
      key: 'versioned.bin',
      versionId: newer.versionId,
      path: 'resume/versioned.bin',
      overwrite: false,
      owner: '(open)',
    });
    await job.done;

    expect(job.state).toBe('succeeded');
    expect(rangesFetched(stack.oss.requests, 'versioned.bin')).toHaveLength(8);
    expect(stack.oss.requests.filter((r) => r.key === 'versioned.bin').every((r) => r.query.versionId === newer.versionId)).toBe(true);
  });

  it("leaves a prefix job's partial file to that job's rerun, which fetches only the part that was missing", async () => {
    stack.oss.putGeneratedObject(BUCKET, 'sync/big.bin', 2 * MiB, 31);
    stack.oss.putObject(BUCKET, 'sync/small.txt', 'small');
    const request: PrefixJobRequest = { bucket: BUCKET, prefix: 'sync/', path: 'resume-sync', overwrite: false, delete: false, owner: '(open)' };
    await interrupted(request, path.join(root, 'resume-sync', 'big.bin'));

    const restarted = manager();
    expect(await restarted.resumeFromCheckpoints()).toEqual([]);
    const { job, created } = await restarted.submit(request);
    await job.done;

    expect([created, job.state]).toEqual([true, 'succeeded']);
    expect(rangesFetched(stack.oss.requests, 'sync/big.bin')).toEqual(['0-262143']);
    expect(readFileSync(path.join(root, 'resume-sync', 'big.bin')).equals(stack.oss.expectedBytes(BUCKET, 'sync/big.bin'))).toBe(true);
    expect(filesUnder(path.join(root, 'resume-sync'))).toEqual(['.oss-download-manifest.json', 'big.bin', 'small.txt']);
  });

  it('discards a checkpoint whose object changed since, and fetches every part of the new one', async () => {
    await interruptedDownload('changed.bin');
    stack.oss.replaceObject(BUCKET, 'changed.bin');
    const [resumed] = await manager().resumeFromCheckpoints();
    await resumed.done;
    expect(resumed.state).toBe('succeeded');
    expect(rangesFetched(stack.oss.requests, 'changed.bin')).toHaveLength(8);
    expect(readFileSync(path.join(root, 'resume', 'changed.bin')).equals(stack.oss.expectedBytes(BUCKET, 'changed.bin'))).toBe(true);
  });
});
