import type { IssuedCredential } from '../sts-registry';

/**
 * The ali-oss constructor options that reach the emulator. With an IP
 * endpoint ali-oss sends `Host: {bucket}.{region}.aliyuncs.com`, so `region`
 * must be the OSS-style `oss-{region}`; V4 strips the `oss-` again for the
 * signing scope. A `refreshSTSTokenInterval` (unused without a
 * `refreshSTSToken` function) silences ali-oss's console warning about a
 * token without a refresher.
 */
export interface AliOssEmulatorOptions {
  region: string;
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  accessKeySecret: string;
  stsToken?: string;
  authorizationV4: boolean;
  secure: false;
  refreshSTSTokenInterval: number;
}

export function aliOssOptions(
  emulator: { endpoint: string; region: string },
  bucket: string,
  credential: Pick<IssuedCredential, 'accessKeyId' | 'accessKeySecret' | 'securityToken'>,
  signature: 'v1' | 'v4' = 'v4',
): AliOssEmulatorOptions {
  return {
    region: `oss-${emulator.region}`,
    endpoint: emulator.endpoint,
    bucket,
    accessKeyId: credential.accessKeyId,
    accessKeySecret: credential.accessKeySecret,
    ...(credential.securityToken ? { stsToken: credential.securityToken } : {}),
    authorizationV4: signature === 'v4',
    secure: false,
    refreshSTSTokenInterval: 60 * 60 * 1000,
  };
}
