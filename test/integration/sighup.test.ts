import { systemClock } from '../../src/clock';
import { createMetadataEmulator, type MetadataEmulator } from '../../emulators/metadata/metadata-emulator';
import { createOssEmulator, type OssEmulator } from '../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../emulators/sts-registry';
import { killAllServices, loopbackServiceEnv, startService } from '../support/service-process';
import { get } from '../support/stack';

const ROLE = 'oss-download-role';
const BUCKET = 'sighup-bucket';
const IGNORED = 'SIGHUP ignored: no tokens file to reload (running open)';

/**
 * SIGHUP sent to the built service (`node dist/src/server.js`) running open. With a tokens file
 * SIGHUP reloads it (test/security/auth.test.ts); without one there is nothing to reload, and
 * node's default action would end the process with 129.
 */
describe('SIGHUP to the built service running open', () => {
  let metadata: MetadataEmulator;
  let oss: OssEmulator;

  beforeAll(async () => {
    const sts = new StsRegistry(systemClock);
    metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true });
    await metadata.listen();
    oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
    await oss.listen();
    oss.createBucket(BUCKET);
    oss.allow(ROLE, BUCKET);
    oss.putObject(BUCKET, 'small.txt', 'small\n');
  });

  afterEach(() => killAllServices());
  afterAll(async () => {
    await oss.close();
    await metadata.close();
  });

  function env(mode: 'none' | 'unset'): Record<string, string> {
    const base = loopbackServiceEnv(oss.endpoint, BUCKET, {
      CREDENTIALS_SOURCE: 'credentials_uri',
      ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
    });
    if (mode === 'unset') delete base.AUTH_MODE;
    return base;
  }

  it.each(['none', 'unset'] as const)(
    'with AUTH_MODE %s: logs one info line per SIGHUP and keeps serving; SIGTERM still drains to exit 0',
    async (mode) => {
      const service = await startService(env(mode));

      service.signal('SIGHUP');
      const line = await service.waitForLog((l) => l.msg === IGNORED);
      const served = await get(`${service.baseUrl}/v1/objects/${BUCKET}/small.txt`);
      service.signal('SIGHUP');
      await service.waitForLog(() => service.logLines().filter((l) => l.msg === IGNORED).length === 2);
      const health = await get(`${service.baseUrl}/healthz`);
      const exit = await service.stop('SIGTERM', 10_000);

      expect(line).toMatchObject({ level: 30, signal: 'SIGHUP' });
      expect(served).toMatchObject({ status: 200, complete: true });
      expect(served.body.toString()).toBe('small\n');
      expect(health.status).toBe(200);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(service.logLines().filter((l) => l.msg === 'tokens reloaded')).toEqual([]);
    },
    30_000,
  );
});
