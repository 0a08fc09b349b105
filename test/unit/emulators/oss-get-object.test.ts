import OSS from 'ali-oss';
import { createHash } from 'node:crypto';
import { aliOssOptions } from '../../../emulators/oss/client-options';
import { BLOCK_LENGTH } from '../../../emulators/oss/generated-object';
import { createOssEmulator, type OssEmulator } from '../../../emulators/oss/oss-emulator';
import { sendRaw } from '../../../emulators/oss/raw-request';
import { StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';
import { crc64 } from '../../../src/crc64';

const BUCKET = 'media-bucket';
const BODY = 'The quick brown fox jumps over the lazy dog';

describe('OSS emulator: GetObject and HeadObject, through the real ali-oss client', () => {
  let emulator: OssEmulator;
  let oss: OSS;

  beforeEach(async () => {
    const clock = new ManualClock(Date.now());
    const sts = new StsRegistry(clock);
    emulator = createOssEmulator({ sts, clock });
    await emulator.listen();
    emulator.createBucket(BUCKET);
    emulator.putObject(BUCKET, 'fox.txt', BODY, {
      contentType: 'text/plain; charset=utf-8',
      cacheControl: 'max-age=60',
      contentDisposition: 'inline',
      contentLanguage: 'en',
      contentEncoding: 'identity',
      expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
      lastModified: new Date('2026-01-02T03:04:05.678Z'),
    });
    const credential = sts.issue('reader-role', 60 * 60 * 1000);
    emulator.allow('reader-role', BUCKET);
    oss = new OSS(aliOssOptions(emulator, BUCKET, credential, 'v4'));
  });

  afterEach(() => emulator.close());

  async function get(key: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const result = await oss.getStream(key, { headers });
    return { status: result.res.status, headers: result.res.headers as Record<string, string>, body: await readAll(result.stream) };
  }

  describe('a whole object', () => {
    it('answers 200 with OSS’s headers and the stored metadata', async () => {
      const answer = await get('fox.txt');

      expect(answer.status).toBe(200);
      expect(answer.body.toString()).toBe(BODY);
      expect(answer.headers).toMatchObject({
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(BODY.length),
        etag: `"${createHash('md5').update(BODY).digest('hex').toUpperCase()}"`,
        'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
        'accept-ranges': 'bytes',
        'x-oss-hash-crc64ecma': crc64(Buffer.from(BODY)).toString(),
        'x-oss-object-type': 'Normal',
        'x-oss-storage-class': 'Standard',
        server: 'AliyunOSS',
        'cache-control': 'max-age=60',
        'content-disposition': 'inline',
        'content-language': 'en',
        'content-encoding': 'identity',
        expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
      });
      expect(answer.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);
      expect(answer.headers['x-oss-server-time']).toMatch(/^\d+$/);
    });

    it('answers HEAD with the same headers and no body', async () => {
      const full = await get('fox.txt');
      const head = await oss.head('fox.txt');
      const headers = head.res.headers as Record<string, string>;

      expect(head.status).toBe(200);
      expect(head.res.size).toBe(0);
      for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'x-oss-hash-crc64ecma', 'cache-control']) {
        expect(headers[name]).toBe(full.headers[name]);
      }
    });

    it('ignores Range on HEAD, describing the whole object', async () => {
      const head = await oss.head('fox.txt', { headers: { Range: 'bytes=0-1' } });

      expect(emulator.requests[0].headers.range).toBe('bytes=0-1');
      expect(head.status).toBe(200);
      expect((head.res.headers as Record<string, string>)['content-length']).toBe(String(BODY.length));
    });

    it('decodes the path once, so keys with spaces, plus signs and non-ASCII work', async () => {
      const key = 'dir/a b+c 日本語 100%.txt';
      emulator.putObject(BUCKET, key, 'odd name');

      expect((await get(key)).body.toString()).toBe('odd name');
      expect(emulator.requests.at(-1)?.key).toBe(key);
    });
  });

  describe('Range', () => {
    it('answers 206 with Content-Range, and the whole object’s CRC, for bytes=a-b', async () => {
      const answer = await get('fox.txt', { Range: 'bytes=4-8' });

      expect(answer.status).toBe(206);
      expect(answer.body.toString()).toBe('quick');
      expect(answer.headers['content-range']).toBe(`bytes 4-8/${BODY.length}`);
      expect(answer.headers['content-length']).toBe('5');
      expect(answer.headers['x-oss-hash-crc64ecma']).toBe(crc64(Buffer.from(BODY)).toString());
    });

    it('serves a suffix range bytes=-n and an open range bytes=a-', async () => {
      const suffix = await get('fox.txt', { Range: 'bytes=-3' });
      const open = await get('fox.txt', { Range: 'bytes=40-' });

      expect([suffix.status, suffix.body.toString(), suffix.headers['content-range']]).toEqual([206, 'dog', `bytes 40-42/43`]);
      expect([open.status, open.body.toString()]).toEqual([206, 'dog']);
    });

    it('without x-oss-range-behavior ignores a range it cannot serve exactly and sends 200 whole', async () => {
      for (const range of ['bytes=43-50', 'bytes=40-100', 'bytes=-100', 'bytes=5-2', 'items=0-1']) {
        const answer = await get('fox.txt', { Range: range });

        expect([range, answer.status, answer.body.length]).toEqual([range, 200, BODY.length]);
        expect(answer.headers['content-range']).toBeUndefined();
      }
    });

    it('with x-oss-range-behavior: standard answers 416 InvalidRange for a start past the end', async () => {
      const headers = { Range: 'bytes=43-50', 'x-oss-range-behavior': 'standard' };

      const error: unknown = await oss.getStream('fox.txt', { headers }).then(
        () => undefined,
        (failure: unknown) => failure,
      );

      // ali-oss leaves the unread error body alone but hands back the raw response.
      expect(error).toMatchObject({ status: 416, res: { headers: { 'content-range': `bytes */${BODY.length}` } } });
      expect(emulator.requests.at(-1)?.code).toBe('InvalidRange');
    });

    it('with x-oss-range-behavior: standard clamps an end past the end', async () => {
      const answer = await get('fox.txt', { Range: 'bytes=40-100', 'x-oss-range-behavior': 'standard' });

      expect([answer.status, answer.body.toString(), answer.headers['content-range']]).toEqual([206, 'dog', 'bytes 40-42/43']);
    });

    it('answers a multi-range request with the whole object', async () => {
      const answer = await get('fox.txt', { Range: 'bytes=0-1,3-4' });

      expect([answer.status, answer.body.toString()]).toEqual([200, BODY]);
    });
  });

  describe('conditionals', () => {
    it('answers 304 with no body to a matching If-None-Match or a current If-Modified-Since', async () => {
      const { etag } = emulator.objectInfo(BUCKET, 'fox.txt')!;

      const byEtag = await get('fox.txt', { 'If-None-Match': etag });
      const byDate = await get('fox.txt', { 'If-Modified-Since': 'Fri, 02 Jan 2026 03:04:05 GMT' });

      expect([byEtag.status, byEtag.body.length, byEtag.headers.etag]).toEqual([304, 0, etag]);
      expect([byDate.status, byDate.body.length]).toEqual([304, 0]);
    });

    it('answers 412 PreconditionFailed to a failing If-Match or If-Unmodified-Since', async () => {
      await expect(oss.getStream('fox.txt', { headers: { 'If-Match': '"0000"' } })).rejects.toMatchObject({
        status: 412,
        code: 'PreconditionFailed',
      });
      await expect(oss.getStream('fox.txt', { headers: { 'If-Unmodified-Since': 'Fri, 02 Jan 2026 03:04:04 GMT' } })).rejects.toMatchObject({
        status: 412,
      });
    });

    it('evaluates If-Match before If-None-Match (RFC 7232 order)', async () => {
      const { etag } = emulator.objectInfo(BUCKET, 'fox.txt')!;

      await expect(oss.getStream('fox.txt', { headers: { 'If-Match': '"0000"', 'If-None-Match': etag } })).rejects.toMatchObject({
        status: 412,
      });
    });

    it('serves the range while If-Range names the current ETag, the whole object after a replace', async () => {
      const { etag } = emulator.objectInfo(BUCKET, 'fox.txt')!;

      const before = await get('fox.txt', { Range: 'bytes=0-2', 'If-Range': etag });
      const replaced = emulator.replaceObject(BUCKET, 'fox.txt');
      const after = await get('fox.txt', { Range: 'bytes=0-2', 'If-Range': etag });

      expect(replaced.etag).not.toBe(etag);
      expect([before.status, before.body.toString()]).toEqual([206, 'The']);
      expect([after.status, after.body.length, after.headers.etag]).toEqual([200, BODY.length, replaced.etag]);
    });
  });

  describe('errors', () => {
    it('keeps NoSuchKey and NoSuchBucket apart, though ali-oss calls every bodiless 404 NoSuchKey', async () => {
      const anyKey = { accessKeyId: 'k', accessKeySecret: 's', securityToken: '' };
      const otherBucket = new OSS(aliOssOptions(emulator, 'no-such-bucket', anyKey));

      await expect(oss.head('missing.txt')).rejects.toMatchObject({ status: 404, code: 'NoSuchKey' });
      await expect(otherBucket.listV2({}, {})).rejects.toMatchObject({ status: 404, code: 'NoSuchBucket', ecCode: '0015-00000101' });
      await expect(otherBucket.head('fox.txt')).rejects.toMatchObject({ status: 404, code: 'NoSuchKey' });
      expect(emulator.requests.map((r) => r.code)).toEqual(['NoSuchKey', 'NoSuchBucket', 'NoSuchBucket']);
    });

    it('answers an error to HEAD without a body, the XML repeated in x-oss-err', async () => {
      const host = `${BUCKET}.oss-cn-hangzhou.aliyuncs.com`;

      const head = await sendRaw(emulator.endpoint, { method: 'HEAD', url: '/fox.txt', headers: { host } });
      const get = await sendRaw(emulator.endpoint, { method: 'GET', url: '/fox.txt', headers: { host } });

      expect([head.status, head.body.length, head.headers['x-oss-ec']]).toEqual([403, 0, '0003-00000001']);
      expect(head.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);
      expect(Buffer.from(String(head.headers['x-oss-err']), 'base64').toString()).toContain('<Code>AccessDenied</Code>');
      expect(get.body.toString()).toContain('<Code>AccessDenied</Code>');
      expect(get.headers['x-oss-err']).toBeUndefined();
    });
  });

  describe('generated objects', () => {
    it('serve deterministic bytes whose CRC header matches what was served', async () => {
      const size = 2 * BLOCK_LENGTH + 12_345;
      emulator.putGeneratedObject(BUCKET, 'gen.bin', size, 42);

      const answer = await get('gen.bin');

      expect(answer.body.length).toBe(size);
      expect(answer.body.equals(emulator.expectedBytes(BUCKET, 'gen.bin'))).toBe(true);
      expect(answer.headers['x-oss-hash-crc64ecma']).toBe(crc64(answer.body).toString());
    });

    it('serve exactly the requested range across the pattern’s period, so an off-by-one shows', async () => {
      emulator.putGeneratedObject(BUCKET, 'gen.bin', 3 * BLOCK_LENGTH, 7);
      const start = BLOCK_LENGTH - 100;

      const answer = await get('gen.bin', { Range: `bytes=${start}-${start + 199}` });

      expect(answer.body.equals(emulator.expectedBytes(BUCKET, 'gen.bin', start, start + 199))).toBe(true);
      expect(answer.body.equals(emulator.expectedBytes(BUCKET, 'gen.bin', start + 1, start + 200))).toBe(false);
    });

    it('can be larger than memory would allow: 8 GiB, with its CRC and its tail', async () => {
      const size = 8 * 1024 ** 3;
      const info = emulator.putGeneratedObject(BUCKET, 'huge.bin', size, 3);

      const head = await oss.head('huge.bin');
      const tail = await get('huge.bin', { Range: 'bytes=-16' });

      expect((head.res.headers as Record<string, string>)['content-length']).toBe(String(size));
      expect((head.res.headers as Record<string, string>)['x-oss-hash-crc64ecma']).toBe(info.crc64.toString());
      expect(tail.body.equals(emulator.expectedBytes(BUCKET, 'huge.bin', size - 16))).toBe(true);
    });

    it('make a small object the first bytes of a large one with the same seed, whichever is read first', async () => {
      emulator.putGeneratedObject(BUCKET, 'small.bin', 1000, 5);
      emulator.putGeneratedObject(BUCKET, 'large.bin', BLOCK_LENGTH + 10, 5);
      emulator.putGeneratedObject(BUCKET, 'small-after.bin', 2000, 5);

      const small = await get('small.bin');
      const large = await get('large.bin');
      const smallAfter = await get('small-after.bin');

      expect(small.headers['x-oss-hash-crc64ecma']).toBe(crc64(small.body).toString());
      expect(large.headers['x-oss-hash-crc64ecma']).toBe(crc64(large.body).toString());
      expect(large.body.subarray(0, 1000).equals(small.body)).toBe(true);
      expect(large.body.subarray(0, 2000).equals(smallAfter.body)).toBe(true);
      expect(large.body.subarray(BLOCK_LENGTH).equals(large.body.subarray(0, 10))).toBe(true);
    });

    it('have an ETag that depends on seed and size', () => {
      const a = emulator.putGeneratedObject(BUCKET, 'a.bin', 1000, 1);
      const b = emulator.putGeneratedObject(BUCKET, 'b.bin', 1000, 2);
      const c = emulator.putGeneratedObject(BUCKET, 'c.bin', 1001, 1);
      const again = emulator.putGeneratedObject(BUCKET, 'd.bin', 1000, 1);

      expect(new Set([a.etag, b.etag, c.etag]).size).toBe(3);
      expect(again.etag).toBe(a.etag);
      expect(a.etag).toMatch(/^"[0-9A-F]{32}"$/);
    });
  });
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
