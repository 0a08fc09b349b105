import { crc64 } from '../../src/crc64';
import { BUCKET, get, startStack, type Stack } from '../support/stack';

/** GET and HEAD /v1/objects/{bucket}/{key} through the real service, ali-oss and both emulators. */
describe.each([4, 1] as const)('objects over real HTTP, signature V%i', (signatureVersion) => {
  let stack: Stack;
  const text = 'Hello from OSS.\n'.repeat(64); // 1024 bytes

  beforeAll(async () => {
    stack = await startStack({ signatureVersion });
    stack.oss.putObject(BUCKET, 'docs/hello.txt', text, { contentType: 'text/plain', cacheControl: 'max-age=60' });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.oss.resetCounters());

  const url = (key: string, query = '') => `${stack.baseUrl}/v1/objects/${BUCKET}/${key}${query}`;

  it('streams the whole object with the contract headers, signed as configured', async () => {
    const res = await get(url('docs/hello.txt'));
    const info = stack.oss.objectInfo(BUCKET, 'docs/hello.txt')!;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(text);
    expect(res.headers).toMatchObject({
      'content-type': 'text/plain',
      'content-length': '1024',
      'accept-ranges': 'bytes',
      'cache-control': 'max-age=60',
      etag: info.etag,
      'x-oss-hash-crc64ecma': crc64(Buffer.from(text)).toString(),
    });
    expect(res.headers['last-modified']).toBe(info.lastModified.toUTCString());
    expect(res.headers['x-oss-request-id']).toBeUndefined();
    expect(res.headers['x-oss-storage-class']).toBeUndefined();
    const [upstream] = stack.oss.requests;
    expect(upstream).toMatchObject({ signatureVersion: `v${signatureVersion}`, status: 200 });
    expect(upstream.headers['x-oss-security-token']).toBe(stack.metadata.current()!.securityToken);
  });

  it('answers 206 with Content-Range for a satisfiable range', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=6-9' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 6-9/1024');
    expect(res.body.toString()).toBe('from');
    expect(stack.oss.requests[0].headers['x-oss-range-behavior']).toBe('standard');
  });

  it('answers a suffix range with the last bytes', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=-5' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 1019-1023/1024');
    expect(res.body.toString()).toBe('OSS.\n');
  });

  it('clamps a range whose end is past the end of the object', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=1000-5000' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 1000-1023/1024');
    expect(res.body).toHaveLength(24);
  });

  it('answers 416 with Content-Range bytes */size for a range that starts past the end', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=2000-' });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */1024');
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'InvalidRange', status: 416 });
  });

  it('answers a multi-range request with the whole object', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=0-1,4-5' });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1024);
  });

  it('answers 304 for If-None-Match with the current ETag', async () => {
    const { etag } = stack.oss.objectInfo(BUCKET, 'docs/hello.txt')!;
    const res = await get(url('docs/hello.txt'), { 'If-None-Match': etag });
    expect(res.status).toBe(304);
    expect(res.body).toHaveLength(0);
    expect(res.headers.etag).toBe(etag);
  });

  it('answers 304 for If-Modified-Since at or after Last-Modified', async () => {
    const { lastModified } = stack.oss.objectInfo(BUCKET, 'docs/hello.txt')!;
    const res = await get(url('docs/hello.txt'), { 'If-Modified-Since': lastModified.toUTCString() });
    expect(res.status).toBe(304);
  });

  it('answers 412 for If-Match with another ETag', async () => {
    const res = await get(url('docs/hello.txt'), { 'If-Match': '"00000000000000000000000000000000"' });
    expect(res.status).toBe(412);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'PreconditionFailed' });
  });

  it('sends the whole object when If-Range names another version', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=0-3', 'If-Range': '"0000"' });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1024);
  });

  it('ignores an unsatisfiable Range when If-Range names another version: 200 with the whole object (RFC 9110 13.1.5)', async () => {
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=2000-', 'If-Range': '"00000000000000000000000000000000"' });
    expect(res.status).toBe(200);
    expect(res.headers['content-range']).toBeUndefined();
    expect(res.body.toString()).toBe(text);
  });

  it('still answers 416 for an unsatisfiable Range when If-Range names the current version', async () => {
    const { etag } = stack.oss.objectInfo(BUCKET, 'docs/hello.txt')!;
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=2000-', 'If-Range': etag });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */1024');
  });

  it('sends the range when If-Range names the current version', async () => {
    const { etag } = stack.oss.objectInfo(BUCKET, 'docs/hello.txt')!;
    const res = await get(url('docs/hello.txt'), { Range: 'bytes=0-4', 'If-Range': etag });
    expect(res.status).toBe(206);
    expect(res.body.toString()).toBe('Hello');
  });

  it('answers HEAD with the same headers and no body', async () => {
    const res = await get(url('docs/hello.txt'), {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('1024');
    expect(res.headers['x-oss-hash-crc64ecma']).toBeDefined();
    expect(res.body).toHaveLength(0);
    expect(stack.oss.requests[0].method).toBe('HEAD');
  });

  it('answers HEAD of a missing key with 404 and no body', async () => {
    const res = await get(url('docs/missing.txt'), {}, 'HEAD');
    expect(res.status).toBe(404);
    expect(res.body).toHaveLength(0);
  });

  it('reuses the OSS connection after HEAD errors', async () => {
    await get(url('docs/hello.txt'), {}, 'HEAD'); // opens the keep-alive connection
    stack.oss.resetCounters();
    for (let i = 0; i < 20; i += 1) expect((await get(url('docs/missing.txt'), {}, 'HEAD')).status).toBe(404);
    expect(stack.oss.connectionsAccepted).toBeLessThanOrEqual(1);
  });

  it.each([
    ['a key with spaces', 'dir/with space.txt', 'dir/with%20space.txt'],
    ['a key with +', 'dir/a+b.txt', 'dir/a+b.txt'],
    ['a key with %', 'dir/100%.txt', 'dir/100%25.txt'],
    ['a unicode key', '日本語/ファイル.txt', encodeURIComponent('日本語') + '/' + encodeURIComponent('ファイル.txt')],
    ['a deep key', 'a/b/c/d/e/f/g/h/i/j.txt', 'a/b/c/d/e/f/g/h/i/j.txt'],
    ['a key with ? and #', 'q/what?#.txt', 'q/what%3F%23.txt'],
  ])('serves %s', async (_name, key, path) => {
    stack.oss.putObject(BUCKET, key, `content of ${key}`);
    const res = await get(url(path));
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(`content of ${key}`);
    expect(stack.oss.requests.at(-1)!.key).toBe(key);
  });

  it('answers NoSuchKey for a missing object', async () => {
    const res = await get(url('nope.txt'));
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'NoSuchKey' });
  });
});

describe('OSS error codes stay distinct', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ allow: '*' });
    stack.oss.createBucket('not-granted');
    stack.oss.putObject('not-granted', 'k', 'x');
  });
  afterAll(() => stack.close());

  it('answers NoSuchBucket for a bucket OSS does not have', async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/no-such-bucket/k`);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'NoSuchBucket' });
  });

  it('answers AccessDenied when OSS refuses the role, without echoing OSS text', async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/not-granted/k`);
    expect(res.status).toBe(403);
    const body = JSON.parse(res.body.toString());
    expect(body).toMatchObject({ code: 'AccessDenied' });
    expect(res.body.toString()).not.toMatch(/<Error>|RequestId|HostId/);
  });

  it('answers 502 UpstreamUnavailable for an OSS 503', async () => {
    stack.oss.putObject('demo-bucket', 'k', 'x');
    stack.oss.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' });
    const res = await get(`${stack.baseUrl}/v1/objects/demo-bucket/k`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'UpstreamUnavailable' });
  });

  it('answers 502 when OSS resets the connection before the headers', async () => {
    stack.oss.injectFault({ kind: 'reset-before-headers' });
    const res = await get(`${stack.baseUrl}/v1/objects/demo-bucket/k`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'UpstreamUnavailable' });
  });
});

describe('GET /v1/objects/:bucket (listing)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    for (let i = 0; i < 7; i += 1) stack.oss.putObject(BUCKET, `logs/2026/${i}.log`, `line ${i}`);
    stack.oss.putObject(BUCKET, 'logs/readme.txt', 'r');
  });
  afterAll(() => stack.close());

  it('pages through keys with nextCursor', async () => {
    const keys: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const query: string = `?prefix=logs/2026/&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}${query}`);
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body.toString());
      expect(body.objects.length).toBeLessThanOrEqual(3);
      keys.push(...body.objects.map((o: { key: string }) => o.key));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(keys).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `logs/2026/${i}.log`));
  });

  it('groups by delimiter and describes each object', async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}?prefix=logs/&delimiter=/`);
    const body = JSON.parse(res.body.toString());
    expect(body.prefixes).toEqual(['logs/2026/']);
    expect(body.objects).toEqual([
      {
        key: 'logs/readme.txt',
        size: 1,
        etag: stack.oss.objectInfo(BUCKET, 'logs/readme.txt')!.etag,
        lastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        storageClass: 'Standard',
      },
    ]);
    expect(body.nextCursor).toBeNull();
  });
});
