import { systemClock } from '../src/clock';
import { createMetadataEmulator, type MetadataEmulator, type MetadataEmulatorOptions } from './metadata/metadata-emulator';
import { createOssEmulator, type OssEmulator } from './oss/oss-emulator';
import type { BucketAcl } from './oss/object-store-memory';
import { StsRegistry } from './sts-registry';

/**
 * Both emulators on 127.0.0.1 on the real clock, one bucket the role may read,
 * and the environment that points the built service at them: what the
 * reliability suite's child-process scenarios and the benchmarks share.
 * The service gets CREDENTIALS_SOURCE=credentials_uri against the metadata
 * emulator, never the ECS metadata address (that one exists only on ECS or in
 * the netns tier's private namespace).
 */
export interface LoopbackEmulators {
  sts: StsRegistry;
  metadata: MetadataEmulator;
  oss: OssEmulator;
  /** The Host header that addresses the bucket on the OSS emulator (virtual-host style). */
  host: string;
  /** The service's environment for these emulators, `extra` on top. */
  serviceEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export interface LoopbackOptions extends Pick<MetadataEmulatorOptions, 'credentialTtlMs' | 'rotateBeforeMs'> {
  role: string;
  bucket: string;
  acl?: BucketAcl;
  region?: string;
}

export async function startLoopbackEmulators(options: LoopbackOptions): Promise<LoopbackEmulators> {
  const region = options.region ?? 'cn-hangzhou';
  const sts = new StsRegistry(systemClock);
  const metadata = createMetadataEmulator({
    sts,
    roleName: options.role,
    hardenedOnly: true,
    credentialTtlMs: options.credentialTtlMs,
    rotateBeforeMs: options.rotateBeforeMs,
  });
  await metadata.listen();
  const oss = createOssEmulator({ sts, region });
  await oss.listen();
  oss.createBucket(options.bucket, { acl: options.acl });
  oss.allow(options.role, options.bucket);
  return {
    sts,
    metadata,
    oss,
    host: `${options.bucket}.oss-${region}.aliyuncs.com`,
    serviceEnv: (extra = {}) => ({
      OSS_REGION: region,
      OSS_ENDPOINT: oss.endpoint,
      OSS_ALLOW: options.bucket,
      CREDENTIALS_SOURCE: 'credentials_uri',
      ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
      // Loopback only, for the bench and the fault scenarios: no caller tokens (the service warns).
      AUTH_MODE: 'none',
      ...extra,
    }),
    async close() {
      await oss.close();
      await metadata.close();
    },
  };
}
