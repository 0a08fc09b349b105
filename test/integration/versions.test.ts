import { readFileSync } from 'node:fs';
import path from 'node:path';
import { api, postDownload } from '../support/downloads';
import { BUCKET, get, startStack, type Stack } from '../support/stack';

const VERSIONED = 'history-bucket';
const PARTS = { thresholdBytes: 1024, partSizeBytes: 1024, parallelism: 2 };

/** ?versionId=, ?versions=true and versioned downloads through the real service, ali-oss and the emulators. */
describe.each([4, 1] as const)('object versions over real HTTP, signature V%i', (signatureVersion) => {
  let stack: Stack;
  let v1: string;
  let v2: string;
  let marker: string;
  const older = 'first version\n'.repeat(300); // 4200 bytes: a download in parts
  const newer = 'second\n';

  beforeAll(async () => {
    stack = await startStack({ signatureVersion, allow: `${BUCKET},${VERSIONED}`, downloads: { config: PARTS } });
    stack.oss.createBucket(VERSIONED, { versioning: true });
    stack.oss.allow('oss-download-role', VERSIONED);
    v1 = stack.oss.putObject(VERSIONED, 'doc.txt', older).versionId!;
    v2 = stack.oss.putObject(VERSIONED, 'doc.txt', newer).versionId!;
    stack.oss.putObject(VERSIONED, 'gone.txt', 'deleted later');
    stack.oss.deleteObject(VERSIONED, 'gone.txt');
    marker = stack.oss.objectVersions(VERSIONED, 'gone.txt')[0].versionId;
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.oss.resetCounters());

  const url = (key: string, query = '') => `${stack.baseUrl}/v1/objects/${VERSIONED}/${key}${query}`;

  it('streams the latest version with its x-oss-version-id', async () => {
    const res = await get(url('doc.txt'));

    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(newer);
    expect(res.headers['x-oss-version-id']).toBe(v2);
  });

  it('streams an older version by ?versionId=, asking OSS for exactly it', async () => {
    const res = await get(url('doc.txt', `?versionId=${v1}`));

    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(older);
    expect(res.headers['x-oss-version-id']).toBe(v1);
    expect(stack.oss.requests[0].query.versionId).toBe(v1);
  });

  it('answers HEAD of an older version with its size and version id', async () => {
    const res = await get(url('doc.txt', `?versionId=${v1}`), {}, 'HEAD');

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(older.length));
    expect(res.headers['x-oss-version-id']).toBe(v1);
  });

  it('answers 404 DeleteMarker for a delete marker asked for by id, on GET and HEAD', async () => {
    const res = await get(url('gone.txt', `?versionId=${marker}`));
    const head = await get(url('gone.txt', `?versionId=${marker}`), {}, 'HEAD');

    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'DeleteMarker', status: 404 });
    expect(head.status).toBe(404);
  });

  it('answers 404 NoSuchKey, saying so, when the latest version is a delete marker', async () => {
    const res = await get(url('gone.txt'));

    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'NoSuchKey', detail: expect.stringContaining('delete marker') });
  });

  it('answers 404 NoSuchVersion for a version the key never had', async () => {
    const res = await get(url('doc.txt', '?versionId=CAEQnosuchversion'));
    const head = await get(url('doc.txt', '?versionId=CAEQnosuchversion'), {}, 'HEAD');

    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'NoSuchVersion' });
    expect(head.status).toBe(404);
  });

  it('refuses a versionId that is not one', async () => {
    const res = await get(url('doc.txt', '?versionId=a%20b'));

    expect(res.status).toBe(400);
    expect(stack.oss.requests).toHaveLength(0);
  });

  it('lists versions and delete markers, newest first, page by page with nextCursor', async () => {
    const pages: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const query: string = `?versions=true&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await api(stack, 'GET', `/v1/objects/${VERSIONED}${query}`);
      expect(res.status).toBe(200);
      pages.push(res.body);
      cursor = res.body.nextCursor as string | null;
    } while (cursor !== null);

    const versions = pages.flatMap((p) => p.versions as Array<Record<string, unknown>>);
    expect(pages).toHaveLength(2);
    expect(versions.map((v) => [v.key, v.versionId, v.isLatest, v.deleteMarker])).toEqual([
      ['doc.txt', v2, true, false],
      ['doc.txt', v1, false, false],
      ['gone.txt', marker, true, true],
      ['gone.txt', expect.any(String), false, false],
    ]);
    expect(versions[1]).toMatchObject({ size: older.length, etag: stack.oss.objectVersions(VERSIONED, 'doc.txt')[1].info!.etag });
    expect(versions[2]).toMatchObject({ size: 0, etag: null });
  });

  it('lists the versions under a prefix only, and refuses a cursor it did not make', async () => {
    const res = await api(stack, 'GET', `/v1/objects/${VERSIONED}?versions=true&prefix=gone`);
    const bad = await api(stack, 'GET', `/v1/objects/${VERSIONED}?versions=true&cursor=bm90LWEtY3Vyc29y`);

    expect((res.body.versions as Array<{ key: string }>).map((v) => v.key)).toEqual(['gone.txt', 'gone.txt']);
    expect(res.body.nextCursor).toBeNull();
    expect(bad.status).toBe(400);
  });

  it('downloads an older version with the HEAD and every ranged part pinned to it', async () => {
    const res = await postDownload(stack, { bucket: VERSIONED, key: 'doc.txt', versionId: v1, path: `old-v${signatureVersion}.txt` });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'succeeded', versionId: v1, bytesDone: older.length });
    expect(readFileSync(path.join(stack.downloadRoot!, `old-v${signatureVersion}.txt`), 'utf8')).toBe(older);
    const objectRequests = stack.oss.requests.filter((r) => r.key === 'doc.txt');
    expect(objectRequests.length).toBeGreaterThan(2); // a HEAD and several ranged parts
    expect(objectRequests.every((r) => r.query.versionId === v1)).toBe(true);
    expect(objectRequests.filter((r) => r.method === 'GET').every((r) => r.headers['if-match'] !== undefined)).toBe(true);
  });

  it('refuses versionId with a prefix download', async () => {
    const res = await postDownload(stack, { bucket: VERSIONED, prefix: 'doc', versionId: v1, path: 'folder' });

    expect(res.status).toBe(400);
    expect(res.body.detail).toContain('versionId goes with key only');
  });
});
