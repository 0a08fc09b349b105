import {
  ECSRAMRoleCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  StaticAKCredentialsProvider,
  URICredentialsProvider,
} from '@alicloud/credentials';
import type { CredentialsConfig } from '../config';
import type { CredentialSource, StsCredentials } from './credential-provider-wrapper';

/**
 * The only module that imports @alicloud/credentials.
 *
 * Each source builds the library's own provider, exactly what
 * `new Client(new Config({ type: 'ecs_ram_role', roleName, disableIMDSv1: true }))`
 * builds inside (see the library's client.js), and asks it for its session
 * rather than going through `Client.getCredential()`: the session is one
 * object holding the whole triple *and* its Expiration, while the Client's
 * CredentialModel drops the expiry the wrapper needs.
 *
 * The default chain (`new Client()` with no config) is deliberately not used:
 * it has a start-up race and can stay stuck on a provider that failed once.
 * `asyncCredentialUpdateEnabled` is left off: its timer keeps the process alive.
 */

/** The part of the library's SessionCredentialProvider this module relies on. */
interface SessionProvider {
  getSession(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken: string; expiration: string }>;
}

/**
 * Timeouts for the metadata service: it is on the host's own link, so a slow
 * answer means it is in trouble. Both are 2 s because the library's HTTP client
 * (httpx) uses the connect timeout as the socket's idle timeout, which also
 * runs while it waits for the answer: a 1 s connect timeout fails every answer
 * slower than 1 s, whatever the read timeout says.
 */
const METADATA_TIMEOUTS_MS = { connect: 2000, read: 2000 };

class SessionCredentialSource implements CredentialSource {
  private provider: SessionProvider;

  constructor(
    readonly name: string,
    private readonly build: () => SessionProvider,
  ) {
    this.provider = build();
  }

  async fetch(): Promise<StsCredentials> {
    const session = await this.provider.getSession().catch((err: unknown) => {
      throw new CredentialSourceError(this.name, err);
    });
    const expiresAt = Date.parse(session.expiration);
    if (Number.isNaN(expiresAt)) throw new Error(`${this.name}: the credential has no valid Expiration`);
    return {
      accessKeyId: session.accessKeyId,
      accessKeySecret: session.accessKeySecret,
      securityToken: session.securityToken,
      expiresAt,
    };
  }

  /** The library has no "invalidate": a new provider starts with an empty cache. */
  reset(): void {
    this.provider = this.build();
  }
}

/**
 * A library error, retold without its message: @alicloud/credentials quotes
 * the metadata answer in some messages (the URI provider puts the whole JSON
 * document, secret included, in one), so only the kind of failure survives.
 */
export class CredentialSourceError extends Error {
  constructor(source: string, cause: unknown) {
    super(`the ${source} credential source failed (${failureKind(cause)})`);
    this.name = 'CredentialSourceError';
  }
}

function failureKind(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return e.code; // ECONNREFUSED, ETIMEDOUT, ...
  const message = typeof e.message === 'string' ? e.message : '';
  const status = /httpStatus: (\d{3})|failed with (\d{3})|: (\d{3})$/.exec(message);
  if (status) return `HTTP ${status[1] ?? status[2] ?? status[3]}`;
  if (/timeout/i.test(message) || /Timeout/.test(String(e.name))) return 'timeout';
  if (/json parse/i.test(message)) return 'unreadable answer';
  if (/Code is not Success|get sts token failed/i.test(message)) return 'refused or incomplete answer';
  return 'error';
}

/** A long-term AccessKey: local development only (compose.ts logs a warning). */
class AccessKeyCredentialSource implements CredentialSource {
  readonly name = 'access_key';
  private readonly provider: StaticAKCredentialsProvider;

  constructor(accessKeyId: string, accessKeySecret: string) {
    this.provider = StaticAKCredentialsProvider.builder().withAccessKeyId(accessKeyId).withAccessKeySecret(accessKeySecret).build();
  }

  async fetch(): Promise<StsCredentials> {
    const c = await this.provider.getCredentials();
    return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: '', expiresAt: null };
  }

  reset(): void {}
}

export function createAlibabaCredentialSource(config: CredentialsConfig): CredentialSource {
  switch (config.source) {
    case 'ecs_ram_role':
      return new SessionCredentialSource('ecs_ram_role', () =>
        ECSRAMRoleCredentialsProvider.builder()
          // undefined: the library reads ALIBABA_CLOUD_ECS_METADATA, then discovers the role.
          .withRoleName(config.ecsRoleName as string)
          .withDisableIMDSv1(!config.imdsV1Allowed)
          .withConnectTimeout(METADATA_TIMEOUTS_MS.connect)
          .withReadTimeout(METADATA_TIMEOUTS_MS.read)
          .build(),
      );
    case 'credentials_uri':
      return new SessionCredentialSource('credentials_uri', () =>
        URICredentialsProvider.builder()
          .withCredentialsURI(required(config.credentialsUri, 'ALIBABA_CLOUD_CREDENTIALS_URI'))
          .withConnectTimeout(METADATA_TIMEOUTS_MS.connect)
          .withReadTimeout(METADATA_TIMEOUTS_MS.read)
          .build(),
      );
    case 'oidc_role_arn': {
      const oidc = required(config.oidc, 'ALIBABA_CLOUD_ROLE_ARN');
      return new SessionCredentialSource('oidc_role_arn', () => {
        const builder = OIDCRoleArnCredentialsProvider.builder()
          .withRoleArn(oidc.roleArn)
          .withOIDCProviderArn(oidc.providerArn)
          .withOIDCTokenFilePath(oidc.tokenFile)
          .withRoleSessionName(oidc.roleSessionName);
        if (oidc.stsEndpoint) builder.withStsEndpoint(oidc.stsEndpoint);
        return builder.build();
      });
    }
    case 'access_key':
      return new AccessKeyCredentialSource(
        required(config.accessKeyId, 'ALIBABA_CLOUD_ACCESS_KEY_ID'),
        required(config.accessKeySecret, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'),
      );
  }
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is required`); // config.ts checks this first
  return value;
}
