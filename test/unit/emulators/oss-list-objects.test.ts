import OSS from 'ali-oss';
import { aliOssOptions } from '../../../emulators/oss/client-options';
import { createOssEmulator, type OssEmulator } from '../../../emulators/oss/oss-emulator';
import { sendRaw } from '../../../emulators/oss/raw-request';
import { StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';

const BUCKET = 'media-bucket';
const KEYS = ['a.txt', 'logs/2026/01.log', 'logs/2026/02.log', 'logs/2027/01.log', 'logs/readme', 'photos/cat.jpg', 'z & <odd>.txt'];

describe('OSS emulator: listings, through the real ali-oss client', () => {
  let emulator: OssEmulator;
  let oss: OSS;
  let sts: StsRegistry;

  beforeEach(async () => {
    const clock = new ManualClock(Date.now());
    sts = new StsRegistry(clock);
    emulator = createOssEmulator({ sts, clock });
    await emulator.listen();
    emulator.createBucket(BUCKET);
    for (const key of [...KEYS].reverse()) emulator.putObject(BUCKET, key, `body of ${key}`);
    emulator.allow('reader-role', BUCKET);
    oss = new OSS(aliOssOptions(emulator, BUCKET, sts.issue('reader-role', 3_600_000), 'v4'));
  });

  afterEach(() => emulator.close());

  describe('ListObjectsV2', () => {
    it('lists keys in byte order with their size, ETag, type and storage class', async () => {
      const listed = await oss.listV2({}, {});

      expect(listed.objects.map((object) => object.name)).toEqual(KEYS);
      expect(listed.objects[0]).toMatchObject({
        size: 'body of a.txt'.length,
        etag: emulator.objectInfo(BUCKET, 'a.txt')?.etag,
        type: 'Normal',
        storageClass: 'Standard',
        owner: null,
      });
      expect(listed.objects[0].lastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect([listed.keyCount, listed.isTruncated, listed.nextContinuationToken]).toEqual([KEYS.length, false, null]);
    });

    it('pages with continuation tokens until every key was seen once', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await oss.listV2({ 'max-keys': '2', ...(token ? { 'continuation-token': token } : {}) }, {});
        seen.push(...page.objects.map((object) => object.name));
        expect(page.keyCount).toBe(page.objects.length);
        token = page.nextContinuationToken ?? undefined;
        pages += 1;
      } while (token !== undefined);

      expect(seen).toEqual(KEYS);
      expect(pages).toBe(4);
    });

    it('rolls keys up into common prefixes under a delimiter, never repeating one across pages', async () => {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await oss.listV2({ prefix: 'logs/', delimiter: '/', 'max-keys': '1', ...(token ? { 'continuation-token': token } : {}) }, {});
        names.push(...page.objects.map((object) => object.name), ...(page.prefixes ?? []));
        token = page.nextContinuationToken ?? undefined;
      } while (token !== undefined);

      expect(names).toEqual(['logs/2026/', 'logs/2027/', 'logs/readme']);
    });

    it('starts after start-after', async () => {
      const listed = await oss.listV2({ 'start-after': 'logs/2027/01.log' }, {});

      expect(listed.objects.map((object) => object.name)).toEqual(['logs/readme', 'photos/cat.jpg', 'z & <odd>.txt']);
    });

    it('names the owner only with fetch-owner=true', async () => {
      const listed = await oss.listV2({ 'fetch-owner': true, 'max-keys': '1' }, {});

      expect(listed.objects[0].owner).toEqual({ id: expect.stringMatching(/^\d+$/), displayName: expect.any(String) });
    });

    it('URL-encodes names with encoding-type=url', async () => {
      const listed = await oss.listV2({ prefix: 'z', 'encoding-type': 'url' }, {});

      expect(listed.objects.map((object) => object.name)).toEqual([encodeURIComponent('z & <odd>.txt')]);
    });

    it('escapes XML special characters in keys', async () => {
      const listed = await oss.listV2({ prefix: 'z' }, {});

      expect(listed.objects.map((object) => object.name)).toEqual(['z & <odd>.txt']);
    });

    it('answers InvalidArgument to max-keys above 1000', async () => {
      await expect(oss.listV2({ 'max-keys': '1001' }, {})).rejects.toMatchObject({ status: 400, code: 'InvalidArgument' });
    });

    it('lists an empty prefix as no objects and no prefixes', async () => {
      const listed = await oss.listV2({ prefix: 'nothing/' }, {});

      expect([listed.objects, listed.prefixes, listed.keyCount]).toEqual([[], null, 0]);
    });
  });

  describe('ListObjects (V1)', () => {
    it('pages with marker and NextMarker and always names the owner', async () => {
      const first = await oss.list({ 'max-keys': 3 }, {});
      const second = await oss.list({ 'max-keys': 10, marker: first.nextMarker ?? '' }, {});

      expect(first.objects.map((object) => object.name)).toEqual(KEYS.slice(0, 3));
      expect([first.isTruncated, first.nextMarker]).toEqual([true, KEYS[2]]);
      expect(second.objects.map((object) => object.name)).toEqual(KEYS.slice(3));
      expect(second.objects[0].owner?.id).toMatch(/^\d+$/);
    });
  });

  describe('policy', () => {
    it('allows listing a prefix the grant covers and refuses one it does not', async () => {
      emulator.allow('logs-role', BUCKET, 'logs/');
      const logsOnly = new OSS(aliOssOptions(emulator, BUCKET, sts.issue('logs-role', 3_600_000), 'v1'));

      const listed = await logsOnly.listV2({ prefix: 'logs/2026/' }, {});

      expect(listed.objects.map((object) => object.name)).toEqual(['logs/2026/01.log', 'logs/2026/02.log']);
      await expect(logsOnly.listV2({ prefix: 'log' }, {})).rejects.toMatchObject({ status: 403, code: 'AccessDenied' });
    });
  });

  it('answers the XML layout ali-oss parses, read raw', async () => {
    emulator.createBucket('open-bucket', { acl: 'public-read' });
    emulator.putObject('open-bucket', 'k', 'v');

    const answer = await sendRaw(emulator.endpoint, {
      method: 'GET',
      url: '/?list-type=2&max-keys=1',
      headers: { host: 'open-bucket.oss-cn-hangzhou.aliyuncs.com' },
    });

    expect(answer.headers['content-type']).toBe('application/xml');
    expect(answer.body.toString()).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ListBucketResult><Name>open-bucket<\/Name><Prefix><\/Prefix><MaxKeys>1<\/MaxKeys><Delimiter><\/Delimiter><IsTruncated>false<\/IsTruncated><Contents><Key>k<\/Key>.*<\/Contents><KeyCount>1<\/KeyCount><\/ListBucketResult>\n$/,
    );
  });
});
