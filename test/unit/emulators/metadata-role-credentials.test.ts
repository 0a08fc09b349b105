import { ManualClock } from '../../support/manual-clock';
import { StsRegistry } from '../../../emulators/sts-registry';
import { createMetadataEmulator, type MetadataEmulator, type MetadataEmulatorOptions } from '../../../emulators/metadata/metadata-emulator';

const ROLE_LIST = '/latest/meta-data/ram/security-credentials/';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const IMDS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

type CredentialDocument = Record<string, string>;

describe('metadata emulator: RAM role discovery and credentials', () => {
  let clock: ManualClock;
  let sts: StsRegistry;
  let emulator: MetadataEmulator;

  async function start(options: Partial<MetadataEmulatorOptions> = {}): Promise<void> {
    clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    sts = new StsRegistry(clock);
    // Normal mode keeps these tests about credentials; metadata-tokens.test.ts covers the token gate.
    emulator = createMetadataEmulator({ sts, clock, hardenedOnly: false, ...options });
    await emulator.listen();
  }

  afterEach(() => emulator.close());

  async function readCredential(role = 'oss-download-role'): Promise<CredentialDocument> {
    const response = await fetch(emulator.url(`${ROLE_LIST}${role}`));
    expect(response.status).toBe(200);
    return (await response.json()) as CredentialDocument;
  }

  describe('GET /latest/meta-data/ram/security-credentials/', () => {
    it('answers the attached role name as plain text', async () => {
      await start();

      const response = await fetch(emulator.url(ROLE_LIST));

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe('oss-download-role');
    });

    it('answers 404 on an instance without a role, as does the credential path', async () => {
      await start({ roleName: null });

      expect((await fetch(emulator.url(ROLE_LIST))).status).toBe(404);
      expect((await fetch(emulator.url(`${ROLE_LIST}oss-download-role`))).status).toBe(404);
      expect(emulator.current()).toBeUndefined();
    });

    it('answers the new role after setRole', async () => {
      await start();

      emulator.setRole('reports-reader');

      expect(await (await fetch(emulator.url(ROLE_LIST))).text()).toBe('reports-reader');
      expect(sts.lookup((await readCredential('reports-reader')).AccessKeyId)?.principal).toBe('reports-reader');
    });
  });

  describe('GET /latest/meta-data/ram/security-credentials/{role}', () => {
    it('answers the documented JSON with whole-second UTC times', async () => {
      await start();

      const document = await readCredential();

      expect(Object.keys(document)).toEqual(['AccessKeyId', 'AccessKeySecret', 'Expiration', 'SecurityToken', 'LastUpdated', 'Code']);
      expect(document.Code).toBe('Success');
      expect(document.LastUpdated).toBe('2026-01-01T00:00:00Z');
      expect(document.Expiration).toBe('2026-01-01T06:00:00Z');
      expect(document.Expiration).toMatch(IMDS_TIME);
    });

    it('answers a credential the STS registry knows, for the role as principal', async () => {
      await start();

      const document = await readCredential();

      const issued = sts.lookup(document.AccessKeyId);
      expect(issued).toEqual(emulator.current());
      expect(issued).toMatchObject({
        accessKeySecret: document.AccessKeySecret,
        securityToken: document.SecurityToken,
        principal: 'oss-download-role',
      });
    });

    it('answers 404 for a role that is not attached', async () => {
      await start();

      expect((await fetch(emulator.url(`${ROLE_LIST}someone-else`))).status).toBe(404);
    });
  });

  describe('rotation', () => {
    it('answers the same credential until less than rotateBeforeMs is left, then a new one', async () => {
      await start({ credentialTtlMs: 6 * HOUR, rotateBeforeMs: HOUR });
      const first = await readCredential();

      clock.advance(5 * HOUR);
      const atExactlyOneHourLeft = await readCredential();
      clock.advance(1000);
      const rotated = await readCredential();

      expect(atExactlyOneHourLeft.AccessKeyId).toBe(first.AccessKeyId);
      expect(rotated.AccessKeyId).not.toBe(first.AccessKeyId);
      expect(rotated.LastUpdated).toBe('2026-01-01T05:00:01Z');
      expect(rotated.Expiration).toBe('2026-01-01T11:00:01Z');
    });

    it('leaves the old credential valid in the registry until its own expiration', async () => {
      await start({ credentialTtlMs: 6 * HOUR, rotateBeforeMs: HOUR });
      const old = sts.lookup((await readCredential()).AccessKeyId)!;
      clock.advance(5 * HOUR + MINUTE);
      const fresh = sts.lookup((await readCredential()).AccessKeyId)!;

      expect(sts.isExpired(old)).toBe(false);
      clock.advance(HOUR - MINUTE);
      expect(sts.isExpired(old)).toBe(true);
      expect(sts.isExpired(fresh)).toBe(false);
    });

    it('rotates at once on rotate(), and answers the new credential from then on', async () => {
      await start();
      const before = await readCredential();

      const forced = emulator.rotate();

      const after = await readCredential();
      expect(after.AccessKeyId).toBe(forced?.accessKeyId);
      expect(after.AccessKeyId).not.toBe(before.AccessKeyId);
      expect(sts.isExpired(sts.lookup(before.AccessKeyId)!)).toBe(false);
    });

    it('refuses a policy that would rotate on every read', () => {
      const stsForNothing = new StsRegistry(new ManualClock());

      expect(() => createMetadataEmulator({ sts: stsForNothing, credentialTtlMs: HOUR, rotateBeforeMs: HOUR })).toThrow(RangeError);
      // A valid emulator for afterEach to close.
      emulator = createMetadataEmulator({ sts: stsForNothing });
    });
  });
});
