import { createOssEmulator, type OssEmulator } from '../../../emulators/oss/oss-emulator';
import { type IssuedCredential, StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';
import type { CredentialsProvider, StsCredentials } from '../../../src/credentials/credential-provider-wrapper';
import { AliOssUrlSigner } from '../../../src/oss/ali-oss-url-signer';

const BUCKET = 'media-bucket';
const HOUR = 60 * 60 * 1000;
const BODY = 'presigned bytes\n';

/** Hands out whatever triple the test put in `current`. */
class TripleProvider implements CredentialsProvider {
  constructor(public current: StsCredentials) {}
  async getCredentials(): Promise<StsCredentials> {
    return this.current;
  }
  async refreshAfterRejection(): Promise<StsCredentials | null> {
    return null;
  }
  status() {
    return { source: 'test', valid: true, expiresAt: this.current.expiresAt };
  }
}

function triple(credential: IssuedCredential): StsCredentials {
  return { ...credential, expiresAt: credential.expiresAt };
}

/**
 * Presigned GET URLs: made by the service's AliOssUrlSigner (ali-oss's public
 * signatureUrlV4 / signatureUrl), fetched with a real HTTP client from the OSS
 * emulator, which verifies them as OSS does (query-string signature, expiry, STS token).
 */
describe('OSS emulator: presigned URLs from AliOssUrlSigner', () => {
  let clock: ManualClock;
  let sts: StsRegistry;
  let emulator: OssEmulator;
  let credential: IssuedCredential;
  let provider: TripleProvider;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    sts = new StsRegistry(clock);
    emulator = createOssEmulator({ sts, clock });
    await emulator.listen();
    emulator.createBucket(BUCKET);
    emulator.putObject(BUCKET, 'docs/a b+c/ünï ?.txt', BODY, { contentType: 'text/plain' });
    emulator.putObject(BUCKET, 'docs/other.txt', 'another object');
    credential = sts.issue('reader-role', HOUR);
    emulator.allow('reader-role', BUCKET, 'docs/');
    provider = new TripleProvider(triple(credential));
  });

  afterEach(() => emulator.close());

  function signer(version: 1 | 4, options: { expiresSeconds?: number; marginMs?: number } = {}): AliOssUrlSigner {
    return new AliOssUrlSigner({
      credentials: provider,
      region: emulator.region,
      endpoint: emulator.endpoint,
      signatureVersion: version,
      expiresSeconds: options.expiresSeconds ?? 300,
      expiryMarginMs: options.marginMs ?? 5 * 60 * 1000,
      clock,
    });
  }

  async function fetchText(url: string): Promise<{ status: number; body: string; headers: Headers }> {
    const res = await fetch(url, { redirect: 'manual' });
    return { status: res.status, body: await res.text(), headers: res.headers };
  }

  const code = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];

  describe.each([4, 1] as const)('signature V%s', (version) => {
    it('gives a path-style URL on the IP endpoint that a plain client fetches the object with', async () => {
      const { url, expiresAt } = await signer(version).presignGet({ bucket: BUCKET, key: 'docs/a b+c/ünï ?.txt' });
      const answer = await fetchText(url);

      expect(url.startsWith(`${emulator.endpoint}/${BUCKET}/docs/a%20b%2Bc/`)).toBe(true);
      expect(url).toContain(version === 4 ? 'x-oss-security-token=' : 'security-token=');
      expect(expiresAt).toBe(clock.now() + 300_000);
      expect(answer).toMatchObject({ status: 200, body: BODY });
      expect(emulator.requests.map((r) => [r.signatureVersion, r.principal, r.accessKeyId])).toEqual([
        [`v${version}-url`, 'reader-role', credential.accessKeyId],
      ]);
    });

    it('signs response-content-disposition, which the emulator answers with', async () => {
      const disposition = `attachment; filename="report.txt"; filename*=UTF-8''r%C3%A9port.txt`;
      const { url } = await signer(version).presignGet({ bucket: BUCKET, key: 'docs/other.txt', contentDisposition: disposition });
      const answer = await fetchText(url);

      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-disposition')).toBe(disposition);
    });

    it('is refused once it has expired', async () => {
      const { url } = await signer(version, { expiresSeconds: 60 }).presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
      clock.advance(61_000);
      const answer = await fetchText(url);

      expect(answer.status).toBe(403);
      expect(code(answer.body)).toBe('AccessDenied');
      expect(answer.body).toContain('Request has expired.');
    });

    it('is refused when its signature, its key or a signed parameter was changed', async () => {
      const { url } = await signer(version).presignGet({ bucket: BUCKET, key: 'docs/other.txt', contentDisposition: 'attachment' });
      const signatureParam = version === 4 ? 'x-oss-signature' : 'Signature';
      const tampered = new URL(url);
      tampered.searchParams.set(signatureParam, version === 4 ? '0'.repeat(64) : 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
      const otherKey = url.replace('/docs/other.txt?', '/docs/a%20b%2Bc/%C3%BCn%C3%AF%20%3F.txt?');
      const otherDisposition = url.replace('response-content-disposition=attachment', 'response-content-disposition=inline');

      for (const bad of [tampered.toString(), otherKey, otherDisposition]) {
        const answer = await fetchText(bad);
        expect([answer.status, code(answer.body)]).toEqual([403, 'SignatureDoesNotMatch']);
      }
    });

    it('is refused like a signed request when its STS token is wrong, or the credential expired', async () => {
      const { url } = await signer(version).presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
      const tokenParam = version === 4 ? 'x-oss-security-token' : 'security-token';
      const wrongToken = new URL(url);
      wrongToken.searchParams.set(tokenParam, 'not-the-token');
      const noToken = new URL(url);
      noToken.searchParams.delete(tokenParam);
      const shortLived = sts.issue('reader-role', 30_000);
      provider.current = triple(shortLived);
      const { url: shortUrl } = await signer(version, { marginMs: 0 }).presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
      clock.advance(10_000);
      const beforeCredentialExpiry = await fetchText(shortUrl);
      clock.advance(21_000); // the URL has expired too, but OSS checks the credential first
      const afterCredentialExpiry = await fetchText(shortUrl);

      expect(code((await fetchText(wrongToken.toString())).body)).toBe('InvalidSecurityToken');
      expect(code((await fetchText(noToken.toString())).body)).toBe('InvalidAccessKeyId');
      expect(beforeCredentialExpiry.status).toBe(200);
      expect([afterCredentialExpiry.status, code(afterCredentialExpiry.body)]).toEqual([403, 'SecurityTokenExpired']);
    });

    it('is still subject to the role policy: a URL for a key outside the grant is AccessDenied', async () => {
      emulator.putObject(BUCKET, 'secret/plan.txt', 'not for readers');
      const { url } = await signer(version).presignGet({ bucket: BUCKET, key: 'secret/plan.txt' });
      const answer = await fetchText(url);

      expect([answer.status, code(answer.body)]).toEqual([403, 'AccessDenied']);
    });
  });

  it('never lives past the credential expiry minus the margin', async () => {
    const shortLived = sts.issue('reader-role', 7 * 60 * 1000); // about 7 minutes left, margin 5: about 120 s
    provider.current = triple(shortLived);
    const { url, expiresAt } = await signer(4, { expiresSeconds: 300 }).presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
    const allowed = Math.floor(((shortLived.expiresAt as number) - 5 * 60 * 1000 - clock.now()) / 1000);

    expect(allowed).toBeGreaterThanOrEqual(119);
    expect(allowed).toBeLessThanOrEqual(120);
    expect(new URL(url).searchParams.get('x-oss-expires')).toBe(String(allowed));
    expect(expiresAt).toBe(clock.now() + allowed * 1000);
    expect(expiresAt).toBeLessThanOrEqual((shortLived.expiresAt as number) - 5 * 60 * 1000);
  });

  it('keeps a V1 URL a second shorter, since ali-oss rounds its Expires to the nearest second', async () => {
    const shortLived = sts.issue('reader-role', 7 * 60 * 1000);
    provider.current = triple(shortLived);
    const { expiresAt } = await signer(1, { expiresSeconds: 300 }).presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
    const allowed = Math.floor(((shortLived.expiresAt as number) - 5 * 60 * 1000 - clock.now()) / 1000) - 1;

    expect(expiresAt).toBe(clock.now() + allowed * 1000);
  });

  it('refuses to sign with a credential already inside its expiry margin', async () => {
    provider.current = triple(sts.issue('reader-role', 4 * 60 * 1000));
    await expect(signer(4).presignGet({ bucket: BUCKET, key: 'docs/other.txt' })).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
  });

  it.each([4, 1] as const)('puts a real endpoint in virtual-host style, the bucket in the host name (V%s)', async (version) => {
    const real = new AliOssUrlSigner({
      credentials: provider,
      region: 'cn-beijing',
      endpoint: 'https://oss-cn-beijing-internal.aliyuncs.com',
      signatureVersion: version,
      expiresSeconds: 300,
      expiryMarginMs: 0,
      clock,
    });
    const { url } = await real.presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
    const query = new URL(url).searchParams;

    expect(url.startsWith(`https://${BUCKET}.oss-cn-beijing-internal.aliyuncs.com/docs/other.txt?`)).toBe(true);
    if (version === 4) expect(query.get('x-oss-credential')).toMatch(/\/cn-beijing\/oss\/aliyun_v4_request$/);
    else expect(query.get('OSSAccessKeyId')).toBe(credential.accessKeyId);
  });

  it('refuses a GET URL used for HEAD (the method is signed)', async () => {
    const { url } = await signer(4).presignGet({ bucket: BUCKET, key: 'docs/other.txt' });
    const head = await fetch(url, { method: 'HEAD' });

    const errorDocument = Buffer.from(head.headers.get('x-oss-err') ?? '', 'base64').toString('utf8');

    expect([head.status, code(errorDocument)]).toEqual([403, 'SignatureDoesNotMatch']);
  });
});
