import { createMetadataEmulator, type MetadataEmulator } from '../../emulators/metadata/metadata-emulator';
import { createOssEmulator, type OssEmulator } from '../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../emulators/sts-registry';
import { systemClock } from '../../src/clock';

/**
 * Both emulators on loopback, in the harness process, on the real clock.
 * The bucket is public-read so that the baseline proxy and the direct read
 * need no signature; the service signs anyway and the emulator checks every
 * signature it is sent.
 */
export const ROLE = 'oss-download-role';
export const BUCKET = 'bench-bucket';
export const REGION = 'cn-hangzhou';

export interface BenchEmulators {
  sts: StsRegistry;
  metadata: MetadataEmulator;
  oss: OssEmulator;
  /** The service's environment: credentials_uri against the metadata emulator, never the ECS address. */
  serviceEnv(extra?: Record<string, string>): Record<string, string>;
  /** The Host header that addresses the bucket on the emulator (virtual-host style). */
  host: string;
  close(): Promise<void>;
}

export async function startEmulators(options: { credentialTtlMs?: number; rotateBeforeMs?: number } = {}): Promise<BenchEmulators> {
  const sts = new StsRegistry(systemClock);
  const metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true, ...options });
  await metadata.listen();
  const oss = createOssEmulator({ sts, region: REGION });
  await oss.listen();
  oss.createBucket(BUCKET, { acl: 'public-read' });
  oss.allow(ROLE, BUCKET);
  return {
    sts,
    metadata,
    oss,
    host: `${BUCKET}.oss-${REGION}.aliyuncs.com`,
    serviceEnv: (extra = {}) => ({
      OSS_REGION: REGION,
      OSS_ENDPOINT: oss.endpoint,
      OSS_ALLOW: BUCKET,
      CREDENTIALS_SOURCE: 'credentials_uri',
      ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
      LOG_LEVEL: 'info',
      ...extra,
    }),
    async close() {
      await oss.close();
      await metadata.close();
    },
  };
}

/** KEY=VALUE pairs separated by commas, from an environment variable of the harness (for example the CRC toggle). */
export function envPairs(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
}
