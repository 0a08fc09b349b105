import { systemClock } from '../../../src/clock';
import { createMetadataEmulator, type MetadataEmulator } from '../../../emulators/metadata/metadata-emulator';
import { createOssEmulator, type OssEmulator } from '../../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../../emulators/sts-registry';
import { startService, type ServiceProcess } from '../../support/service-process';
import { BUCKET, ROLE } from '../../support/stack';

/**
 * Both emulators in the test process and the built service (`node dist/src/server.js`) as a
 * child process, configured by environment only, with CREDENTIALS_SOURCE=credentials_uri
 * against the metadata emulator on 127.0.0.1 (never the ECS metadata address).
 */
export interface ServiceStack {
  sts: StsRegistry;
  metadata: MetadataEmulator;
  oss: OssEmulator;
  service: ServiceProcess;
  close(): Promise<void>;
}

export async function startServiceStack(env: Record<string, string> = {}): Promise<ServiceStack> {
  const sts = new StsRegistry(systemClock);
  const metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true });
  await metadata.listen();
  const oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
  await oss.listen();
  oss.createBucket(BUCKET);
  oss.allow(ROLE, BUCKET);
  const service = await startService({
    PORT: '0',
    HOST: '127.0.0.1',
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: oss.endpoint,
    OSS_ALLOW: BUCKET,
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
    ...env,
  });
  return {
    sts,
    metadata,
    oss,
    service,
    async close() {
      service.kill();
      await oss.close();
      await metadata.close();
    },
  };
}
