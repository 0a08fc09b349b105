import OSS from 'ali-oss';
import { aliOssOptions } from '../../../emulators/oss/client-options';
import { type RawResponse, sendRaw } from '../../../emulators/oss/raw-request';
import { createOssEmulator, type OssEmulator, type RecordedRequest } from '../../../emulators/oss/oss-emulator';
import { type IssuedCredential, StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';

const BUCKET = 'media-bucket';
const HOUR = 60 * 60 * 1000;

describe('OSS emulator: authentication and policy, through the real ali-oss client', () => {
  let clock: ManualClock;
  let sts: StsRegistry;
  let emulator: OssEmulator;
  let credential: IssuedCredential;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    sts = new StsRegistry(clock);
    emulator = createOssEmulator({ sts, clock });
    await emulator.listen();
    emulator.createBucket(BUCKET);
    emulator.putObject(BUCKET, 'docs/readme.txt', 'hello, reader', { contentType: 'text/plain' });
    emulator.putObject(BUCKET, 'secret/plan.txt', 'not for readers');
    credential = sts.issue('reader-role', HOUR);
    emulator.allow('reader-role', BUCKET, 'docs/');
  });

  afterEach(() => emulator.close());

  function client(triple: Pick<IssuedCredential, 'accessKeyId' | 'accessKeySecret' | 'securityToken'>, signature: 'v1' | 'v4'): OSS {
    return new OSS(aliOssOptions(emulator, BUCKET, triple, signature));
  }

  describe.each(['v1', 'v4'] as const)('signature %s', (signature) => {
    it('serves getStream, head and listV2 to a valid STS triple', async () => {
      const oss = client(credential, signature);

      const got = await oss.getStream('docs/readme.txt');
      const head = await oss.head('docs/readme.txt');
      const listed = await oss.listV2({ prefix: 'docs/' }, {});

      expect((await readAll(got.stream)).toString()).toBe('hello, reader');
      expect(head.status).toBe(200);
      expect(listed.objects.map((object) => object.name)).toEqual(['docs/readme.txt']);
      expect(emulator.requests.map((r) => [r.signatureVersion, r.status, r.principal])).toEqual([
        [signature, 200, 'reader-role'],
        [signature, 200, 'reader-role'],
        [signature, 200, 'reader-role'],
      ]);
    });

    it('answers SignatureDoesNotMatch to a wrong secret', async () => {
      const oss = client({ ...credential, accessKeySecret: 'not-the-secret' }, signature);

      await expect(oss.listV2({ prefix: 'docs/' }, {})).rejects.toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      await expect(oss.head('docs/readme.txt')).rejects.toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    });

    it('answers InvalidAccessKeyId when the STS token is left out', async () => {
      const oss = client({ ...credential, securityToken: '' }, signature);

      await expect(oss.listV2({ prefix: 'docs/' }, {})).rejects.toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
    });

    it('answers InvalidSecurityToken to a token that is not the key’s own', async () => {
      const other = sts.issue('reader-role', HOUR);

      await expect(client({ ...credential, securityToken: 'CAISforged' }, signature).listV2({}, {})).rejects.toMatchObject({
        status: 403,
        code: 'InvalidSecurityToken',
        ecCode: '0002-00000006',
      });
      await expect(client({ ...credential, securityToken: other.securityToken }, signature).listV2({}, {})).rejects.toMatchObject({
        code: 'InvalidSecurityToken',
        ecCode: '0002-00000004',
      });
    });

    it('answers SecurityTokenExpired once the credential has expired', async () => {
      const shortLived = sts.issue('reader-role', 60_000);
      clock.advance(61_000);

      await expect(client(shortLived, signature).listV2({ prefix: 'docs/' }, {})).rejects.toMatchObject({
        status: 403,
        code: 'SecurityTokenExpired',
      });
    });

    it('answers InvalidAccessKeyId to a key STS never issued', async () => {
      const oss = client({ accessKeyId: 'STS.unknown', accessKeySecret: 'x', securityToken: 'CAISx' }, signature);

      await expect(oss.listV2({}, {})).rejects.toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
    });

    it('answers RequestTimeTooSkewed when the request time is more than 15 minutes off', async () => {
      clock.advance(16 * 60 * 1000);

      await expect(client(credential, signature).listV2({ prefix: 'docs/' }, {})).rejects.toMatchObject({
        status: 403,
        code: 'RequestTimeTooSkewed',
      });
    });

    it('answers AccessDenied outside the role’s grants', async () => {
      const oss = client(credential, signature);

      await expect(oss.head('secret/plan.txt')).rejects.toMatchObject({ status: 403, code: 'AccessDenied' });
      await expect(oss.listV2({ prefix: 'secret/' }, {})).rejects.toMatchObject({ status: 403, code: 'AccessDenied' });
      await expect(oss.listV2({}, {})).rejects.toMatchObject({ status: 403, code: 'AccessDenied' });
    });
  });

  it('lets ali-oss getStream see only the status of a 403: the OSS code is in the unread body', async () => {
    const oss = client(credential, 'v4');

    await expect(oss.getStream('secret/plan.txt')).rejects.toMatchObject({ status: 403, name: 'UnknownError' });
    expect(emulator.requests[0]).toMatchObject({ status: 403, code: 'AccessDenied' });
  });

  it('refuses a V4 signature scoped to another region', async () => {
    const options = { ...aliOssOptions(emulator, BUCKET, credential, 'v4'), region: 'oss-cn-beijing' };

    await expect(new OSS(options as unknown as OSS.Options).listV2({}, {})).rejects.toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    });
  });

  it('accepts a long-term AccessKey without a token, and refuses it with one', async () => {
    const accessKey = sts.addAccessKey('reader-role', 'LTAIlongterm', 'long-term-secret');

    const listed = await client(accessKey, 'v1').listV2({ prefix: 'docs/' }, {});
    const withToken = client({ ...accessKey, securityToken: 'CAISstray' }, 'v1').listV2({ prefix: 'docs/' }, {});

    expect(listed.keyCount).toBe(1);
    await expect(withToken).rejects.toMatchObject({ code: 'InvalidAccessKeyId' });
  });

  it('records the triple each request carried', async () => {
    await client(credential, 'v4').head('docs/readme.txt');

    expect(emulator.requests[0]).toMatchObject({
      accessKeyId: credential.accessKeyId,
      securityToken: credential.securityToken,
      signatureVersion: 'v4',
    });
  });

  describe('a replayed signed request', () => {
    it.each(['v1', 'v4'] as const)('%s: succeeds unchanged and with an unsigned header changed', async (signature) => {
      await client(credential, signature).head('docs/readme.txt');
      const signed = emulator.requests[0];

      const same = await send(emulator, signed);
      const newUserAgent = await send(emulator, signed, { 'user-agent': 'curl/8.0' });

      expect(same.status).toBe(200);
      expect(newUserAgent.status).toBe(200);
    });

    const oneSecondLater = (date: string): string => new Date(Date.parse(date) + 1000).toUTCString();

    it.each([
      ['v1', 'content-type', () => 'text/html'],
      ['v1', 'x-oss-date', oneSecondLater],
      ['v4', 'content-type', () => 'text/html'],
      ['v4', 'x-oss-meta-added', () => 'yes'],
    ] as const)('%s: answers SignatureDoesNotMatch when signed header %s changes', async (signature, header, change) => {
      await client(credential, signature)
        .getStream('docs/readme.txt')
        .then((got) => readAll(got.stream));
      const signed = emulator.requests[0];

      const tampered = await send(emulator, signed, { [header]: change(signed.headers[header] ?? '') });

      expect(tampered.status).toBe(403);
      expect(xmlCode(tampered.body)).toBe('SignatureDoesNotMatch');
    });
  });

  describe('anonymous requests', () => {
    it('are refused on a private bucket with OSS error XML', async () => {
      const answer = await send(emulator, { method: 'GET', url: '/docs/readme.txt', headers: { host: `${BUCKET}.oss-cn-hangzhou.aliyuncs.com` } });

      expect(answer.status).toBe(403);
      expect(answer.headers['content-type']).toBe('application/xml');
      expect(answer.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);
      expect(answer.headers['x-oss-ec']).toBe('0003-00000001');
      expect(answer.body).toMatch(
        /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message><RequestId>[0-9A-F]{24}<\/RequestId><HostId>media-bucket\.oss-cn-hangzhou\.aliyuncs\.com<\/HostId><EC>0003-00000001<\/EC><\/Error>\n$/,
      );
      expect(emulator.requests[0].signatureVersion).toBe('anonymous');
    });

    it('are served from a public-read bucket', async () => {
      emulator.createBucket('public-bucket', { acl: 'public-read' });
      emulator.putObject('public-bucket', 'index.html', '<h1>hi</h1>');

      const answer = await send(emulator, { method: 'GET', url: '/index.html', headers: { host: 'public-bucket.oss-cn-hangzhou.aliyuncs.com' } });

      expect(answer.status).toBe(200);
      expect(answer.body).toBe('<h1>hi</h1>');
    });
  });
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function xmlCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}

/** Replays a recorded request over raw HTTP, with some headers changed. */
async function send(
  emulator: OssEmulator,
  request: Pick<RecordedRequest, 'method' | 'url' | 'headers'>,
  changes: Record<string, string> = {},
): Promise<{ status: number; headers: RawResponse['headers']; body: string }> {
  const answer = await sendRaw(emulator.endpoint, { ...request, headers: { ...request.headers, ...changes } });
  return { ...answer, body: answer.body.toString() };
}
