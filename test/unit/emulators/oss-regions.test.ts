import OSS from 'ali-oss';
import { aliOssOptions } from '../../../emulators/oss/client-options';
import { BucketLocations, createOssEmulator, type OssEmulator } from '../../../emulators/oss/oss-emulator';
import { type IssuedCredential, StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';

const HOUR = 60 * 60 * 1000;

describe('OSS emulator: two regions on two ports', () => {
  let hangzhou: OssEmulator;
  let shanghai: OssEmulator;
  let credential: IssuedCredential;

  async function start(wrongRegionAnswer?: 'permanent-redirect'): Promise<void> {
    const clock = new ManualClock(Date.now());
    const sts = new StsRegistry(clock);
    const locations = new BucketLocations();
    hangzhou = createOssEmulator({ sts, clock, region: 'cn-hangzhou', locations, wrongRegionAnswer });
    shanghai = createOssEmulator({ sts, clock, region: 'cn-shanghai', locations, wrongRegionAnswer });
    await Promise.all([hangzhou.listen(), shanghai.listen()]);
    hangzhou.createBucket('east-bucket');
    shanghai.createBucket('shanghai-bucket');
    shanghai.putObject('shanghai-bucket', 'a.txt', 'from shanghai');
    credential = sts.issue('reader-role', HOUR);
    hangzhou.allow('reader-role', 'east-bucket');
    shanghai.allow('reader-role', 'shanghai-bucket');
  }

  afterEach(() => Promise.all([hangzhou.close(), shanghai.close()]));

  const client = (emulator: OssEmulator, bucket: string) => new OSS(aliOssOptions(emulator, bucket, credential, 'v4'));

  it("serves a bucket at its own region's endpoint, signed for that region", async () => {
    await start();

    const head = await client(shanghai, 'shanghai-bucket').head('a.txt');

    expect(head.status).toBe(200);
    expect(shanghai.requests[0].signatureVersion).toBe('v4');
  });

  it('refuses a bucket of the other region with 403 AccessDenied naming its endpoint, before checking the signature', async () => {
    await start();
    const misdirected = client(hangzhou, 'shanghai-bucket');

    const error = await misdirected.listV2({}, {}).catch((err: unknown) => err);
    const raw = await fetch(`${hangzhou.endpoint}/shanghai-bucket/a.txt`);
    const body = await raw.text();

    expect(error).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(raw.status).toBe(403);
    expect(body).toContain('<Endpoint>oss-cn-shanghai.aliyuncs.com</Endpoint>');
    expect(body).toContain('<Bucket>shanghai-bucket</Bucket>');
    expect(raw.headers.get('x-oss-ec')).toBe('0003-00001403');
  });

  it('answers 301 PermanentRedirect instead when told to', async () => {
    await start('permanent-redirect');

    const raw = await fetch(`${hangzhou.endpoint}/shanghai-bucket/a.txt`, { redirect: 'manual' });

    expect(raw.status).toBe(301);
    expect(await raw.text()).toContain('<Code>PermanentRedirect</Code>');
  });

  it('still answers NoSuchBucket for a bucket no region has, and refuses a second region the same bucket name', async () => {
    await start();

    const raw = await fetch(`${hangzhou.endpoint}/nobody-bucket/a.txt`);

    expect(raw.status).toBe(404);
    expect(await raw.text()).toContain('<Code>NoSuchBucket</Code>');
    expect(() => hangzhou.createBucket('shanghai-bucket')).toThrow(/already exists in cn-shanghai/);
  });
});
