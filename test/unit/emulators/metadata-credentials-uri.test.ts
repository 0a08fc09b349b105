import Credential, { Config } from '@alicloud/credentials';
import { ManualClock } from '../../support/manual-clock';
import { StsRegistry } from '../../../emulators/sts-registry';
import { createMetadataEmulator, type MetadataEmulator } from '../../../emulators/metadata/metadata-emulator';

const ROLE_CREDENTIAL = '/latest/meta-data/ram/security-credentials/oss-download-role';

describe('metadata emulator: GET /v1/credentials (credentials_uri form)', () => {
  let clock: ManualClock;
  let emulator: MetadataEmulator;

  beforeEach(async () => {
    // The real library below judges expiry by the wall clock, so start the manual one at "now".
    clock = new ManualClock(Date.now());
    emulator = createMetadataEmulator({ sts: new StsRegistry(clock), clock });
    await emulator.listen();
  });

  afterEach(() => emulator.close());

  async function readUri(): Promise<Record<string, string>> {
    const response = await fetch(emulator.url('/v1/credentials'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    return (await response.json()) as Record<string, string>;
  }

  it('answers the shape URICredentialsProvider parses, without a metadata token', async () => {
    const document = await readUri();

    expect(Object.keys(document)).toEqual(['Code', 'AccessKeyId', 'AccessKeySecret', 'SecurityToken', 'Expiration']);
    expect(document.Code).toBe('Success');
    expect(document.Expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(emulator.calls.uri).toBe(1);
  });

  it('answers the same rotating role credential as IMDS', async () => {
    emulator.setHardenedOnly(false);
    const viaUri = await readUri();
    const viaImds = (await (await fetch(emulator.url(ROLE_CREDENTIAL))).json()) as Record<string, string>;

    expect(viaUri.AccessKeyId).toBe(viaImds.AccessKeyId);
    const rotated = emulator.rotate();
    expect((await readUri()).AccessKeyId).toBe(rotated?.accessKeyId);
  });

  it('answers 404 when no role is attached', async () => {
    emulator.setRole(null);

    expect((await fetch(emulator.url('/v1/credentials'))).status).toBe(404);
  });

  it('honours outages like the IMDS paths', async () => {
    emulator.setOutage('http-500');

    expect((await fetch(emulator.url('/v1/credentials'))).status).toBe(500);
    expect(emulator.calls.uri).toBe(1);
  });

  describe('driven by the real @alicloud/credentials URICredentialsProvider', () => {
    function uriClient(): Credential {
      return new Credential(new Config({ type: 'credentials_uri', credentialsURI: emulator.url('/v1/credentials') }));
    }

    it('gets the credential the emulator issued, in one call, then serves it from its cache', async () => {
      const client = uriClient();

      const first = await client.getCredential();
      const second = await client.getCredential();

      const issued = emulator.current();
      expect(first).toMatchObject({
        accessKeyId: issued?.accessKeyId,
        accessKeySecret: issued?.accessKeySecret,
        securityToken: issued?.securityToken,
        type: 'credentials_uri',
      });
      expect(second.accessKeyId).toBe(first.accessKeyId);
      expect(emulator.calls.uri).toBe(1);
    });

    it('rejects when the endpoint answers 500 and it holds no credential yet', async () => {
      emulator.setOutage('http-500');

      await expect(uriClient().getCredential()).rejects.toThrow(/httpStatus: 500/);
    });
  });
});
