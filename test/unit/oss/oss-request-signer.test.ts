import type { StsCredentials } from '../../../src/credentials/credential-provider-wrapper';
import { OssRequestSigner } from '../../../src/oss/oss-request-signer';

const triple = (n: number): StsCredentials => ({
  accessKeyId: `STS.key-${n}`,
  accessKeySecret: `secret-${n}`,
  securityToken: `token-${n}`,
  expiresAt: null,
});
const GET = { method: 'GET' as const, bucket: 'b-1', key: 'k.txt' };
const NOW = new Date('2026-12-03T07:30:00.000Z');

describe('OssRequestSigner', () => {
  it.each([1, 4] as const)('signs each request with the triple it is given, even after 20 other triples (V%s)', (signatureVersion) => {
    const signer = new OssRequestSigner({ region: 'cn-beijing', endpoint: 'http://127.0.0.1:9', signatureVersion });
    const first = signer.sign(GET, triple(0), NOW);

    for (let n = 1; n <= 20; n += 1) {
      const signed = signer.sign(GET, triple(n), NOW);
      expect(signed.headers.authorization).toContain(`STS.key-${n}`);
      expect(signed.headers['x-oss-security-token']).toBe(`token-${n}`);
    }
    const again = signer.sign(GET, triple(0), NOW);

    expect(again.headers).toEqual(first.headers);
  });

  it('gives two triples with the same AccessKeyId but another secret different signatures', () => {
    const signer = new OssRequestSigner({ region: 'cn-beijing', endpoint: 'http://127.0.0.1:9', signatureVersion: 4 });
    const a = signer.sign(GET, triple(1), NOW);
    const b = signer.sign(GET, { ...triple(1), accessKeySecret: 'rotated' }, NOW);

    expect(a.headers.authorization).not.toBe(b.headers.authorization);
  });

  it('signs a bucket of OSS_BUCKET_REGIONS for its region and sends it to its endpoint, virtual-host style', () => {
    const signer = new OssRequestSigner({
      region: 'cn-beijing',
      endpoint: 'https://oss-cn-beijing-internal.aliyuncs.com',
      bucketRegions: { far: { region: 'cn-shanghai', endpoint: 'https://oss-cn-shanghai-internal.aliyuncs.com' } },
      signatureVersion: 4,
    });

    const near = signer.sign(GET, triple(1), NOW);
    const far = signer.sign({ ...GET, bucket: 'far' }, triple(1), NOW);

    expect(near.origin).toBe('https://b-1.oss-cn-beijing-internal.aliyuncs.com');
    expect(near.headers.authorization).toContain('/cn-beijing/oss/aliyun_v4_request');
    expect(far.origin).toBe('https://far.oss-cn-shanghai-internal.aliyuncs.com');
    expect(far.headers.authorization).toContain('/cn-shanghai/oss/aliyun_v4_request');
    expect(far.headers.host).toBeUndefined();
  });
});
