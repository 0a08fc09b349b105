import OSS from 'ali-oss';
import { aliOssOptions } from '../../../emulators/oss/client-options';
import { sendRaw } from '../../../emulators/oss/raw-request';
import { createOssEmulator, type OssEmulator } from '../../../emulators/oss/oss-emulator';
import { type IssuedCredential, StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';

const BUCKET = 'versioned-bucket';
const HOUR = 60 * 60 * 1000;

describe('OSS emulator: versioning, through the real ali-oss client', () => {
  let clock: ManualClock;
  let emulator: OssEmulator;
  let credential: IssuedCredential;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    const sts = new StsRegistry(clock);
    emulator = createOssEmulator({ sts, clock });
    await emulator.listen();
    // public-read: the raw requests below go without a signature; ali-oss's are still verified.
    emulator.createBucket(BUCKET, { versioning: true, acl: 'public-read' });
    credential = sts.issue('reader-role', HOUR);
    emulator.allow('reader-role', BUCKET);
  });

  afterEach(() => emulator.close());

  const client = (signature: 'v1' | 'v4') => new OSS(aliOssOptions(emulator, BUCKET, credential, signature));

  describe.each(['v1', 'v4'] as const)('signature %s', (signature) => {
    it('serves the latest version by default and an older one by versionId, each with x-oss-version-id', async () => {
      const first = emulator.putObject(BUCKET, 'doc.txt', 'first');
      clock.advance(1000);
      const second = emulator.putObject(BUCKET, 'doc.txt', 'second');
      const oss = client(signature);

      const latest = await oss.getStream('doc.txt');
      // ali-oss 6.23's getStream drops options.versionId (only `process` becomes a sub-resource); subres carries it.
      const older = await oss.getStream('doc.txt', { subres: { versionId: first.versionId } } as OSS.GetStreamOptions);
      const head = await oss.head('doc.txt', { versionId: first.versionId } as OSS.HeadObjectOptions);

      expect((await readAll(latest.stream)).toString()).toBe('second');
      expect((latest.res.headers as Record<string, string>)['x-oss-version-id']).toBe(second.versionId);
      expect((await readAll(older.stream)).toString()).toBe('first');
      expect((older.res.headers as Record<string, string>)['x-oss-version-id']).toBe(first.versionId);
      expect((head.res.headers as Record<string, string>)['x-oss-version-id']).toBe(first.versionId);
      expect(first.versionId).not.toBe(second.versionId);
    });

    it('signs versionId: the same request with another versionId is SignatureDoesNotMatch', async () => {
      const first = emulator.putObject(BUCKET, 'doc.txt', 'first');
      const second = emulator.putObject(BUCKET, 'doc.txt', 'second');
      await readAll((await client(signature).getStream('doc.txt', { subres: { versionId: first.versionId } } as OSS.GetStreamOptions)).stream);
      const signed = emulator.requests[0];

      const replayed = await sendRaw(emulator.endpoint, signed);
      const forged = await sendRaw(emulator.endpoint, { ...signed, url: signed.url.replace(first.versionId!, second.versionId!) });

      expect(signed.url).toContain(`versionId=${first.versionId}`);
      expect(replayed.status).toBe(200);
      expect(forged.status).toBe(403);
      expect(xmlCode(forged.body.toString())).toBe('SignatureDoesNotMatch');
    });
  });

  it('answers NoSuchKey with x-oss-delete-marker when the latest version is a delete marker, and keeps the older one', async () => {
    const kept = emulator.putObject(BUCKET, 'gone.txt', 'still here');
    emulator.deleteObject(BUCKET, 'gone.txt');
    const [marker] = emulator.objectVersions(BUCKET, 'gone.txt');

    const latest = await sendRaw(emulator.endpoint, pathStyle('GET', '/gone.txt'));
    const older = await sendRaw(emulator.endpoint, pathStyle('GET', `/gone.txt?versionId=${kept.versionId}`));

    expect(marker.deleteMarker).toBe(true);
    expect(latest.status).toBe(404);
    expect(xmlCode(latest.body.toString())).toBe('NoSuchKey');
    expect(latest.headers['x-oss-delete-marker']).toBe('true');
    expect(latest.headers['x-oss-version-id']).toBe(marker.versionId);
    expect(older.status).toBe(200);
    expect(older.body.toString()).toBe('still here');
  });

  it('answers 405 MethodNotAllowed for a delete marker asked for by id, and NoSuchVersion for an unknown id', async () => {
    emulator.putObject(BUCKET, 'gone.txt', 'x');
    emulator.deleteObject(BUCKET, 'gone.txt');
    const [marker] = emulator.objectVersions(BUCKET, 'gone.txt');

    const asMarker = await sendRaw(emulator.endpoint, pathStyle('GET', `/gone.txt?versionId=${marker.versionId}`));
    const headMarker = await sendRaw(emulator.endpoint, pathStyle('HEAD', `/gone.txt?versionId=${marker.versionId}`));
    const unknown = await sendRaw(emulator.endpoint, pathStyle('GET', '/gone.txt?versionId=CAEQnotaversion'));

    expect(asMarker.status).toBe(405);
    expect(xmlCode(asMarker.body.toString())).toBe('MethodNotAllowed');
    expect(asMarker.headers['x-oss-delete-marker']).toBe('true');
    expect(headMarker.status).toBe(405);
    expect(Buffer.from(String(headMarker.headers['x-oss-err']), 'base64').toString()).toContain('<Code>MethodNotAllowed</Code>');
    expect(unknown.status).toBe(404);
    expect(xmlCode(unknown.body.toString())).toBe('NoSuchVersion');
  });

  it('lists versions and delete markers by key, newest first, in pages that go on from key-marker and version-id-marker', async () => {
    emulator.putObject(BUCKET, 'a.txt', 'a1');
    clock.advance(1000);
    emulator.putObject(BUCKET, 'a.txt', 'a2');
    clock.advance(1000);
    emulator.deleteObject(BUCKET, 'a.txt');
    emulator.putObject(BUCKET, 'b.txt', 'b1');
    emulator.putObject(BUCKET, 'other/c.txt', 'c1');
    // getBucketVersions is in ali-oss 6.23 (lib/common/object/getBucketVersions.js), not in @types/ali-oss.
    const oss = client('v4') as unknown as { getBucketVersions(query: object): Promise<VersionsResult> };

    const first = await oss.getBucketVersions({ maxKeys: '2' });
    const second = await oss.getBucketVersions({ keyMarker: first.nextKeyMarker, versionIdMarker: first.nextVersionIdMarker, maxKeys: '2' });
    const under = await oss.getBucketVersions({ prefix: 'other/' });

    const aVersions = emulator.objectVersions(BUCKET, 'a.txt').map((v) => v.versionId);
    expect(first.deleteMarker.map((m) => m.versionId)).toEqual([aVersions[0]]);
    expect(first.objects.map((o) => [o.versionId, o.isLatest])).toEqual([[aVersions[1], false]]);
    expect(first.isTruncated).toBe(true);
    expect(second.objects.map((o) => [o.name, o.size])).toEqual([
      ['a.txt', 2],
      ['b.txt', 2],
    ]);
    expect(second.objects[0].versionId).toBe(aVersions[2]);
    expect(second.isTruncated).toBe(true);
    expect(under.objects.map((o) => o.name)).toEqual(['other/c.txt']);
    expect(under.isTruncated).toBe(false);
  });

  it('lists a key written before versioning was turned on as version null, and serves it by that id', async () => {
    emulator.createBucket('plain-bucket', { acl: 'public-read' });
    emulator.allow('reader-role', 'plain-bucket');
    emulator.putObject('plain-bucket', 'old.txt', 'before');
    emulator.enableVersioning('plain-bucket');
    emulator.putObject('plain-bucket', 'old.txt', 'after');

    const versions = emulator.objectVersions('plain-bucket', 'old.txt').map((v) => v.versionId);
    const asNull = await sendRaw(emulator.endpoint, pathStyle('GET', '/old.txt?versionId=null', 'plain-bucket'));

    expect(versions).toHaveLength(2);
    expect(versions[1]).toBe('null');
    expect(asNull.body.toString()).toBe('before');
  });
});

interface VersionsResult {
  objects: Array<{ name: string; versionId: string; isLatest: boolean; size: number }>;
  deleteMarker: Array<{ name: string; versionId: string }>;
  isTruncated: boolean;
  nextKeyMarker: string | null;
  nextVersionIdMarker: string | null;
}

/** An anonymous path-style request (the buckets here are public-read). */
function pathStyle(method: string, url: string, bucket = BUCKET) {
  return { method, url: `/${bucket}${url}`, headers: { host: '127.0.0.1' } };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function xmlCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
