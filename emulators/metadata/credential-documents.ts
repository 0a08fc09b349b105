import type { RoleCredentialEntry } from './role-credentials';

/** IMDS writes times as `YYYY-MM-DDTHH:MM:SSZ`: UTC, whole seconds, no milliseconds. */
export function imdsTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The body of `GET /latest/meta-data/ram/security-credentials/{role}`, keys in the order of the
 * sample in the ECS docs ("Instance metadata", ram/security-credentials/[role-name]).
 */
export function imdsCredentialDocument(entry: RoleCredentialEntry): Record<string, string> {
  const { credential } = entry;
  return {
    AccessKeyId: credential.accessKeyId,
    AccessKeySecret: credential.accessKeySecret,
    Expiration: imdsTime(expiresAt(entry)),
    SecurityToken: credential.securityToken,
    LastUpdated: imdsTime(entry.lastUpdatedAt),
    Code: 'Success',
  };
}

/**
 * The body of the `credentials_uri` endpoint. @alicloud/credentials' URICredentialsProvider needs
 * AccessKeyId, AccessKeySecret and SecurityToken, and parses Expiration (it throws on a missing
 * or malformed one); it ignores Code.
 */
export function uriCredentialDocument(entry: RoleCredentialEntry): Record<string, string> {
  const { credential } = entry;
  return {
    Code: 'Success',
    AccessKeyId: credential.accessKeyId,
    AccessKeySecret: credential.accessKeySecret,
    SecurityToken: credential.securityToken,
    Expiration: imdsTime(expiresAt(entry)),
  };
}

function expiresAt(entry: RoleCredentialEntry): number {
  const { expiresAt: at } = entry.credential;
  if (at === null) throw new Error('a role credential always expires; got a long-term AccessKey');
  return at;
}
