import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_NAME } from '../../src/downloads/sync-manifest';
import { AppError } from '../../src/errors';
import type { ListPage, ListRequest } from '../../src/oss/object-store';
import { api, filesUnder, postDownload } from '../support/downloads';
import { BUCKET, startStack, type Stack } from '../support/stack';

/**
 * POST /v1/downloads with `prefix`: every object under it to a folder, kept
 * in sync, against the OSS emulator over real HTTP (its request log says what
 * each run asked OSS for).
 */

const MiB = 1024 * 1024;
// 2,000 files fsynced one by one on a shared 2-core machine: a bound against hangs, not a timing assertion.
jest.setTimeout(60_000);

describe('prefix downloads (POST /v1/downloads with prefix)', () => {
  let stack: Stack;
  let root: string;
  beforeAll(async () => {
    stack = await startStack({ downloads: { config: { thresholdBytes: 1 * MiB, partSizeBytes: 256 * 1024, parallelism: 4, filesParallelism: 8 } } });
    root = stack.downloadRoot!;
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.oss.resetCounters());

  const objectRequests = (method: 'GET' | 'HEAD') => stack.oss.requests.filter((r) => r.method === method && r.key !== '');

  it('lands each key at the folder + the key without the prefix, nested, unicode and % included, in one job', async () => {
    const keys = {
      'rep/2026/a.csv': 'a',
      'rep/2026/q1/b.csv': 'bb',
      'rep/日本/データ.txt': 'データ',
      'rep/100%.txt': 'percent',
      'rep/top.txt': 'top',
    };
    for (const [key, body] of Object.entries(keys)) stack.oss.putObject(BUCKET, key, body);
    stack.oss.putGeneratedObject(BUCKET, 'rep/large.bin', 3 * MiB, 7); // above the threshold: parallel parts
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'rep/', path: 'reports' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'prefix',
      prefix: 'rep/',
      path: 'reports',
      state: 'succeeded',
      filesTotal: 6,
      filesDone: 6,
      filesSkipped: 0,
      filesFailed: 0,
      failures: [],
    });
    expect(res.body.bytesTotal).toBe(3 * MiB + Object.values(keys).reduce((n, b) => n + Buffer.byteLength(b), 0));
    for (const [key, body] of Object.entries(keys)) expect(readFileSync(path.join(root, 'reports', key.slice(4)), 'utf8')).toBe(body);
    expect(readFileSync(path.join(root, 'reports/large.bin')).equals(stack.oss.expectedBytes(BUCKET, 'rep/large.bin'))).toBe(true);
    expect(filesUnder(path.join(root, 'reports')).filter((f) => f.includes('.oss-download') && f !== MANIFEST_NAME)).toEqual([]);
  });

  it('skips what cannot be a safe file and lists it in failures; the job fails with its counts and writes nothing elsewhere', async () => {
    // `bad/dir` (a file) and `bad/dir/inner.txt` (a file in a folder of that name) cannot both be: files run in
    // parallel, so whichever comes second fails.
    const keys = [
      'bad/ok.txt',
      'bad/a/../escape.txt',
      'bad/dir',
      'bad/dir/inner.txt',
      'bad/marker/',
      `bad/${'n'.repeat(240)}`,
      'bad/slash-not-empty/',
    ];
    for (const key of keys) stack.oss.putObject(BUCKET, key, key.endsWith('marker/') ? '' : 'x');
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'bad/', path: 'bad' });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('IncompleteDownload');
    const job = (await api(stack, 'GET', res.headers.get('location')!)).body;
    expect(job).toMatchObject({ state: 'failed', filesTotal: 7, filesDone: 2, filesSkipped: 1, filesFailed: 4 });
    const failed = (job.failures as { key: string; code: string }[]).map((f) => [f.key, f.code]);
    // Refused on the way in (a file where a folder must be), or at publish (a folder appeared where the file goes).
    const [collided, collision] = failed.find(([key]) => key.startsWith('bad/dir'))!;
    expect(['InvalidRequest', 'Conflict']).toContain(collision);
    expect(failed.sort()).toEqual(
      [
        ['bad/a/../escape.txt', 'InvalidRequest'],
        [collided, collision],
        [`bad/${'n'.repeat(240)}`, 'InvalidRequest'],
        ['bad/slash-not-empty/', 'InvalidRequest'],
      ].sort(),
    );
    const written = collided === 'bad/dir' ? 'dir/inner.txt' : 'dir';
    expect(filesUnder(path.join(root, 'bad'))).toEqual([MANIFEST_NAME, written, 'ok.txt'].sort());
    expect(existsSync(path.join(root, 'escape.txt'))).toBe(false);
  });

  it('runs 2,000 keys across pages, and a second run asks OSS for no object bytes', async () => {
    for (let i = 0; i < 2000; i += 1) stack.oss.putObject(BUCKET, `many/${i % 10}/file-${i}.txt`, `body ${i}`);
    const first = await postDownload(stack, { bucket: BUCKET, prefix: 'many/', path: 'many' });
    expect(first.body).toMatchObject({ state: 'succeeded', filesTotal: 2000, filesDone: 2000 });
    expect(readFileSync(path.join(root, 'many/7/file-1237.txt'), 'utf8')).toBe('body 1237');
    stack.oss.resetCounters();
    const second = await postDownload(stack, { bucket: BUCKET, prefix: 'many/', path: 'many' });
    expect(second.body).toMatchObject({ state: 'succeeded', filesTotal: 2000, filesDone: 0, filesSkipped: 2000 });
    expect([objectRequests('GET').length, objectRequests('HEAD').length]).toEqual([0, 0]);
    expect(stack.oss.requests.filter((r) => r.method === 'GET' && r.key === '').length).toBe(2); // two listing pages
  });

  it('fetches again, without overwrite, a file it wrote whose object changed; refuses one it did not write unless overwrite', async () => {
    for (const name of ['a', 'b', 'c']) stack.oss.putObject(BUCKET, `sync/${name}.txt`, `v1 ${name}`);
    await postDownload(stack, { bucket: BUCKET, prefix: 'sync/', path: 'sync' });
    stack.oss.putObject(BUCKET, 'sync/a.txt', 'v2 a, longer');
    stack.oss.putObject(BUCKET, 'sync/d.txt', 'v1 d');
    writeFileSync(path.join(root, 'sync/d.txt'), 'mine');
    stack.oss.resetCounters();
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'sync/', path: 'sync' });
    expect(res.status).toBe(502);
    const job = (await api(stack, 'GET', res.headers.get('location')!)).body;
    expect(job).toMatchObject({
      filesDone: 1,
      filesSkipped: 2,
      filesFailed: 1,
      failures: [expect.objectContaining({ key: 'sync/d.txt', code: 'Conflict' })],
    });
    expect(readFileSync(path.join(root, 'sync/a.txt'), 'utf8')).toBe('v2 a, longer');
    expect(readFileSync(path.join(root, 'sync/d.txt'), 'utf8')).toBe('mine');
    expect(objectRequests('GET').map((r) => r.key)).toEqual(['sync/a.txt']);

    const forced = await postDownload(stack, { bucket: BUCKET, prefix: 'sync/', path: 'sync', overwrite: true });
    expect(forced.body).toMatchObject({ state: 'succeeded', filesDone: 1, filesSkipped: 3 });
    expect(readFileSync(path.join(root, 'sync/d.txt'), 'utf8')).toBe('v1 d');
  });

  it('skips, without a GET, a file it did not write that already holds the object (same size and CRC-64)', async () => {
    stack.oss.putObject(BUCKET, 'same/x.txt', 'identical');
    mkdirSync(path.join(root, 'same'));
    writeFileSync(path.join(root, 'same/x.txt'), 'identical');
    stack.oss.resetCounters();
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'same/', path: 'same' });
    expect(res.body).toMatchObject({ state: 'succeeded', filesSkipped: 1, filesDone: 0 });
    expect(objectRequests('GET')).toEqual([]);
    expect(objectRequests('HEAD').map((r) => r.key)).toEqual(['same/x.txt']);
  });

  it('with delete, removes exactly the files it wrote whose object is gone, and nothing else', async () => {
    for (const name of ['keep', 'gone-1', 'gone-2']) stack.oss.putObject(BUCKET, `del/${name}.txt`, name);
    await postDownload(stack, { bucket: BUCKET, prefix: 'del/', path: 'del' });
    writeFileSync(path.join(root, 'del/not-ours.txt'), 'local');
    stack.oss.deleteObject(BUCKET, 'del/gone-1.txt');
    stack.oss.deleteObject(BUCKET, 'del/gone-2.txt');
    const withoutDelete = await postDownload(stack, { bucket: BUCKET, prefix: 'del/', path: 'del' });
    expect(withoutDelete.body).toMatchObject({ filesDeleted: 0 });
    expect(filesUnder(path.join(root, 'del'))).toEqual([MANIFEST_NAME, 'gone-1.txt', 'gone-2.txt', 'keep.txt', 'not-ours.txt']);
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'del/', path: 'del', delete: true });
    expect(res.body).toMatchObject({ state: 'succeeded', delete: true, filesDeleted: 2, filesSkipped: 1 });
    expect(filesUnder(path.join(root, 'del'))).toEqual([MANIFEST_NAME, 'keep.txt', 'not-ours.txt']);
  });

  it('refuses a body with both key and prefix, or delete without prefix, and a prefix outside OSS_ALLOW', async () => {
    const both = await postDownload(stack, { bucket: BUCKET, key: 'a', prefix: 'b/', path: 'x' });
    const deleteAlone = await postDownload(stack, { bucket: BUCKET, key: 'a', path: 'x', delete: true });
    const dots = await postDownload(stack, { bucket: BUCKET, prefix: 'a/../', path: 'x' });
    const outside = await postDownload(stack, { bucket: 'other-bucket', prefix: 'a/', path: 'x' });
    expect([both.status, deleteAlone.status, dots.status, outside.status]).toEqual([400, 400, 400, 403]);
  });

  it('conflicts with a job writing inside its folder, and a file job inside a running prefix job', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'busy/stall.bin', 64 * 1024, 2);
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 100, match: { key: 'busy/stall.bin' } });
    const running = await postDownload(stack, { bucket: BUCKET, prefix: 'busy/', path: 'busy' }, false);
    expect(running.status).toBe(202);
    const inside = await postDownload(stack, { bucket: BUCKET, key: 'busy/stall.bin', path: 'busy/other.bin' });
    expect(inside.status).toBe(409);
    const canceled = await api(stack, 'DELETE', `/v1/downloads/${running.body.id}`);
    expect(canceled.body.state).toBe('canceled');
    expect(filesUnder(path.join(root, 'busy')).filter((f) => f !== MANIFEST_NAME)).toEqual([]);
  });
});

describe('prefix downloads: one request per small file', () => {
  let stack: Stack;
  /** Runs after each listing page is read: lets a test change an object between the listing and its GET. */
  let afterListing: () => void = () => undefined;
  /** Reads a listing page (default: the real one): lets a test claim a next page and fail it. */
  let listing: (r: ListRequest, real: (r: ListRequest) => Promise<ListPage>) => Promise<ListPage> = (r, real) => real(r);
  /** Awaited by every object GET before it goes to OSS: lets a test hold files in flight. */
  let beforeGet: () => Promise<void> = () => Promise.resolve();
  beforeAll(async () => {
    stack = await startStack({
      downloads: {
        wrapStore: (store) => ({
          getObject: async (r) => {
            await beforeGet();
            return store.getObject(r);
          },
          headObject: (r) => store.headObject(r),
          listObjectVersions: (r) => store.listObjectVersions(r),
          listObjects: async (r) => {
            const page = await listing(r, (x) => store.listObjects(x));
            afterListing();
            return page;
          },
        }),
      },
    });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.oss.resetCounters();
    afterListing = () => undefined;
    listing = (r, real) => real(r);
    beforeGet = () => Promise.resolve();
  });

  const requests = (method: string) => stack.oss.requests.filter((r) => r.method === method && r.key !== '').map((r) => r.key);

  it('fetches each small file with one GET pinned to the listed ETag, no HEAD, and still verifies its CRC64', async () => {
    for (let i = 0; i < 5; i += 1) stack.oss.putObject(BUCKET, `one/f${i}.txt`, `file ${i}`);
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'one/', path: 'one' });
    expect(res.body).toMatchObject({ state: 'succeeded', filesDone: 5 });
    expect(requests('HEAD')).toEqual([]);
    expect(requests('GET').sort()).toEqual(['one/f0.txt', 'one/f1.txt', 'one/f2.txt', 'one/f3.txt', 'one/f4.txt']);
    expect(stack.oss.requests.filter((r) => r.method === 'GET' && r.key !== '').every((r) => r.headers['if-match'] !== undefined)).toBe(true);
  });

  it('waits for the files in flight when a later listing page fails: they are published, and the job fails with the listing error', async () => {
    for (let i = 0; i < 3; i += 1) stack.oss.putObject(BUCKET, `paged/f${i}.txt`, `file ${i}`);
    // Page 1 (the three keys) claims a page 2; every GET waits until page 2 has failed, so the three files are
    // still running when the listing error leaves the loop.
    let releaseGets!: () => void;
    const getsReleased = new Promise<void>((resolve) => (releaseGets = resolve));
    let waiting = 0;
    const allWaiting = new Promise<void>((resolve) => {
      beforeGet = () => {
        if (++waiting === 3) resolve();
        return getsReleased;
      };
    });
    listing = async (r, real) => {
      if (r.cursor === undefined) return { ...(await real(r)), nextCursor: 'page-2' };
      await allWaiting;
      releaseGets();
      throw new AppError('NoSuchBucket', 'The bucket went away between two listing pages.');
    };
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'paged/', path: 'paged' });
    expect(res.body.code).toBe('NoSuchBucket');
    const job = (await api(stack, 'GET', res.headers.get('location')!)).body;
    expect(job).toMatchObject({ state: 'failed', filesDone: 3, filesFailed: 0, failures: [] });
    for (let i = 0; i < 3; i += 1) expect(readFileSync(path.join(stack.downloadRoot!, `paged/f${i}.txt`), 'utf8')).toBe(`file ${i}`);
    expect(filesUnder(path.join(stack.downloadRoot!, 'paged')).filter((f) => f.includes('.oss-download') && f !== MANIFEST_NAME)).toEqual([]);
  });

  it('fetches the new version of an object replaced between the listing and its GET', async () => {
    stack.oss.putObject(BUCKET, 'race/a.txt', 'old');
    afterListing = () => stack.oss.putObject(BUCKET, 'race/a.txt', 'new, replaced after the listing');
    const res = await postDownload(stack, { bucket: BUCKET, prefix: 'race/', path: 'race' });
    expect(res.body).toMatchObject({ state: 'succeeded', filesDone: 1 });
    expect(readFileSync(path.join(stack.downloadRoot!, 'race/a.txt'), 'utf8')).toBe('new, replaced after the listing');
    expect(requests('HEAD')).toEqual(['race/a.txt']);
  });
});
