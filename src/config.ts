import path from 'node:path';
import { z } from 'zod';
import { parseAllowList, type AllowList } from './access-policy';
import { isValidBucketName } from './oss/bucket-name';
import { parseCidrs } from './http/cidr-allowlist';
import { parseCorsOrigins, type CorsOrigins } from './http/cors';
import { DEFAULT_HTTP_LIMITS as D, defaultStreamsPerToken, type HttpLimits } from './http/limits';
import { parseTrustProxy, type TrustProxy } from './http/trust-proxy';

/**
 * The only module that reads process.env. It parses every variable into one
 * frozen, typed object and fails at start with one message that names every
 * bad variable, so an operator fixes the whole file in one go.
 */

export const CREDENTIALS_SOURCES = ['ecs_ram_role', 'oidc_role_arn', 'credentials_uri', 'access_key'] as const;
export type CredentialsSourceName = (typeof CREDENTIALS_SOURCES)[number];

export interface CredentialsConfig {
  source: CredentialsSourceName;
  /** ecs_ram_role: the role name; undefined = discover it from the metadata service. */
  ecsRoleName?: string;
  /** ecs_ram_role: allow the unhardened (token-less) IMDS path as a fallback. Off by default. */
  imdsV1Allowed: boolean;
  credentialsUri?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  oidc?: { roleArn: string; providerArn: string; tokenFile: string; roleSessionName: string; stsEndpoint?: string };
  /** Never hand out a credential that expires within this margin. */
  expiryMarginMs: number;
  /** Start refreshing in the background when this little life is left. */
  refreshAheadMs: number;
  /** After a failed refresh, wait this long before asking the source again (requests fail fast meanwhile). */
  retryIntervalMs: number;
}

/** Who may call the service (AUTH_*, METRICS_AUTH). */
export interface AuthConfig {
  /**
   * `unset`: neither AUTH_TOKENS_FILE nor AUTH_MODE. The service runs open, as `none`, with a louder
   * warning: DESIGN.md's configuration contract starts the service without any AUTH_* variable.
   */
  mode: 'tokens' | 'none' | 'unset';
  tokensFile?: string;
  /** /metrics needs a token with the `metrics` scope (only when mode is `tokens`). */
  metricsRequireToken: boolean;
}

export interface Config {
  auth: AuthConfig;
  /** ALLOW_CIDRS as `address/prefix`; null: any address may connect. */
  allowCidrs: string[] | null;
  trustProxy: TrustProxy;
  /** CORS_ORIGINS: the origins whose web apps may read objects and listings; null: no CORS (OPTIONS stays 405). */
  corsOrigins: CorsOrigins | null;
  httpLimits: HttpLimits;
  port: number;
  host: string;
  oss: {
    region: string;
    endpoint: string;
    /** OSS_BUCKET_REGIONS: buckets that live in another region than OSS_REGION, each with that region's endpoint. */
    bucketRegions: Record<string, { region: string; endpoint: string }>;
    signatureVersion: 1 | 4;
    /** Abort an upstream body that sends nothing for this long. */
    idleTimeoutMs: number;
    /** Time allowed for OSS to answer with headers. */
    requestTimeoutMs: number;
    /** Check whole-object GETs against x-oss-hash-crc64ecma as the bytes pass. */
    verifyCrc64: boolean;
  };
  allow: AllowList;
  delivery: DeliveryConfig;
  credentials: CredentialsConfig;
  downloadRoot: string;
  /** DOWNLOAD_ROOT_SHARED: accept a root that other users own or may write (logged as a warning). */
  downloadRootShared: boolean;
  downloads: DownloadsConfig;
  logLevel: string;
  shutdown: ShutdownConfig;
}

/** How GET /v1/objects/{bucket}/{key} hands out the bytes (OBJECT_DELIVERY, REDIRECT_*, OSS_PUBLIC_ENDPOINT). */
export interface DeliveryConfig {
  /** `proxy`: stream through the service; `redirect`: 307 to a presigned OSS URL. `?redirect=` overrides it per request. */
  default: 'proxy' | 'redirect';
  /** How long a presigned URL lives, at most (cut short by the credential's expiry minus its margin). */
  redirectExpiresSeconds: number;
  /** The OSS endpoint clients reach, for the presigned URLs: OSS_PUBLIC_ENDPOINT, else OSS_ENDPOINT. */
  publicEndpoint: string;
}

/** What SIGTERM or SIGINT does; see src/lifecycle.ts. */
export interface ShutdownConfig {
  /**
   * After the signal, keep serving new requests this long: a load balancer or
   * the Kubernetes endpoints controller is still sending them. 0 by default
   * (one instance, nothing in front); the Kubernetes ConfigMap sets 5.
   */
  graceMs: number;
  /** From the signal, how long in-flight requests and drain hooks may take before the process exits anyway. */
  drainMs: number;
}

export interface DownloadsConfig {
  /** Jobs that run at once; the rest queue. */
  concurrency: number;
  /** Objects larger than this are fetched as parallel ranged parts. */
  thresholdBytes: number;
  partSizeBytes: number;
  /** Parts of one job fetched at once. */
  parallelism: number;
  /** Files of one prefix job fetched at once. */
  filesParallelism: number;
  /** Resume the jobs whose checkpoints are under DOWNLOAD_ROOT when the service starts. */
  resumeOnStart: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const MiB = 1024 * 1024;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const REGION = /^[a-z]{2,}(-[a-z0-9]+)+$/;

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const seconds = (fallback: number) => z.coerce.number().int().min(0).max(86_400).default(fallback);

const positive = (fallback: number, max: number, min = 1) => z.coerce.number().int().min(min).max(max).default(fallback);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  OSS_REGION: z.string({ error: 'is required (for example cn-beijing)' }).regex(REGION, 'must look like cn-beijing'),
  OSS_ENDPOINT: optionalText.pipe(httpUrl.optional()),
  // Buckets in other regions (issue 12): `bucket=region,...`, each region's endpoint from the template.
  OSS_BUCKET_REGIONS: optionalText,
  OSS_ENDPOINT_TEMPLATE: optionalText,
  OSS_SIGNATURE_VERSION: z.enum(['1', '4']).default('4'),
  OSS_IDLE_TIMEOUT_SECONDS: seconds(30),
  OSS_REQUEST_TIMEOUT_SECONDS: seconds(60),
  OSS_VERIFY_CRC64: z.enum(['true', 'false', '1', '0']).default('true'),
  OSS_ALLOW: z.string({ error: 'is required: comma-separated bucket or bucket/prefix entries, or *' }).trim().min(1, 'must not be empty'),
  // Redirect mode (issue 11): 307 to a presigned URL instead of streaming. 604800 s is OSS's V4 limit.
  OBJECT_DELIVERY: z.enum(['proxy', 'redirect']).default('proxy'),
  REDIRECT_EXPIRES_SECONDS: positive(300, 604_800),
  OSS_PUBLIC_ENDPOINT: optionalText.pipe(httpUrl.optional()),
  CREDENTIALS_SOURCE: z.enum(CREDENTIALS_SOURCES).default('ecs_ram_role'),
  ALIBABA_CLOUD_ECS_METADATA: optionalText,
  ALIBABA_CLOUD_IMDSV1_DISABLED: optionalText,
  ALIBABA_CLOUD_CREDENTIALS_URI: optionalText.pipe(httpUrl.optional()),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalText,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalText,
  ALIBABA_CLOUD_ROLE_ARN: optionalText,
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN: optionalText,
  ALIBABA_CLOUD_OIDC_TOKEN_FILE: optionalText,
  ALIBABA_CLOUD_ROLE_SESSION_NAME: optionalText,
  ALIBABA_CLOUD_STS_ENDPOINT: optionalText,
  CREDENTIALS_EXPIRY_MARGIN_SECONDS: seconds(300),
  CREDENTIALS_REFRESH_AHEAD_SECONDS: seconds(900),
  CREDENTIALS_RETRY_SECONDS: seconds(5),
  DOWNLOAD_ROOT: z.string().min(1).default('./downloads'),
  DOWNLOAD_ROOT_SHARED: z.enum(['true', 'false', '1', '0']).default('false'),
  DOWNLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  DOWNLOAD_THRESHOLD_MB: z.coerce.number().int().min(1).max(1_048_576).default(64),
  DOWNLOAD_PART_SIZE_MB: z.coerce.number().int().min(1).max(1024).default(16),
  DOWNLOAD_PARALLELISM: z.coerce.number().int().min(1).max(64).default(8),
  DOWNLOAD_FILES_PARALLELISM: z.coerce.number().int().min(1).max(64).default(8),
  DOWNLOAD_RESUME_ON_START: z.enum(['true', 'false', '1', '0']).default('false'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  SHUTDOWN_GRACE_SECONDS: seconds(0),
  SHUTDOWN_DRAIN_SECONDS: seconds(25),
  AUTH_MODE: z.enum(['tokens', 'none']).optional(),
  AUTH_TOKENS_FILE: optionalText,
  METRICS_AUTH: z.enum(['token', 'none']).default('token'),
  ALLOW_CIDRS: optionalText,
  TRUST_PROXY: optionalText,
  CORS_ORIGINS: optionalText,
  HTTP_HEADERS_TIMEOUT_SECONDS: positive(D.headersTimeoutMs / 1000, 600),
  HTTP_REQUEST_TIMEOUT_SECONDS: positive(D.requestTimeoutMs / 1000, 3600),
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: positive(D.keepAliveTimeoutMs / 1000, 600),
  HTTP_MAX_HEADER_BYTES: positive(D.maxHeaderBytes, 65_536, 1024),
  HTTP_MAX_URL_BYTES: positive(D.maxUrlBytes, 65_536, 256),
  JSON_BODY_LIMIT_BYTES: positive(D.maxJsonBodyBytes, 1_048_576, 256),
  MAX_CONCURRENT_STREAMS: positive(D.maxConcurrentStreams, 100_000),
  // Its default follows MAX_CONCURRENT_STREAMS (defaultStreamsPerToken), so it is filled in below.
  MAX_STREAMS_PER_TOKEN: z.coerce.number().int().min(1).max(100_000).optional(),
  MAX_DOWNLOADS_PER_TOKEN: positive(D.maxDownloadsPerToken, 10_000),
  CLIENT_STALL_TIMEOUT_SECONDS: positive(D.clientStallTimeoutMs / 1000, 86_400),
});

type Env = z.infer<typeof envSchema>;

/** Every variable this module reads (deployment manifests are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);
/** Parse the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Cross-variable checks read the raw values too, so one message lists everything at once.
  const allow = env.OSS_ALLOW?.trim() ? parseAllowList(env.OSS_ALLOW) : undefined;
  if (allow && !allow.ok) problems.push(`OSS_ALLOW: ${allow.error}`);
  problems.push(...credentialProblems(env));
  const cidrs = env.ALLOW_CIDRS?.trim() ? parseCidrs(env.ALLOW_CIDRS) : undefined;
  if (cidrs && !cidrs.ok) problems.push(`ALLOW_CIDRS: ${cidrs.error}`);
  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  if (!trustProxy.ok) problems.push(`TRUST_PROXY: ${trustProxy.error}`);
  problems.push(...authProblems(env));
  const cors = env.CORS_ORIGINS?.trim() ? parseCorsOrigins(env.CORS_ORIGINS) : undefined;
  if (cors && !cors.ok) problems.push(`CORS_ORIGINS: ${cors.error}`);
  const regions = bucketRegionProblems(env);
  problems.push(...regions.problems);
  if (cors?.ok && cors.value === '*' && env.AUTH_TOKENS_FILE?.trim()) {
    problems.push('CORS_ORIGINS: * is allowed only without caller tokens (AUTH_TOKENS_FILE); list the origins instead');
  }
  if (!parsed.success || !allow?.ok || !trustProxy.ok || problems.length > 0) throw new ConfigError(problems);

  const e = parsed.data;
  const endpointOf = (region: string) => (e.OSS_ENDPOINT_TEMPLATE ?? DEFAULT_ENDPOINT_TEMPLATE).replaceAll('{region}', region);
  const endpoint = e.OSS_ENDPOINT ?? endpointOf(e.OSS_REGION);
  // OSS_ENDPOINT is OSS_REGION's endpoint, also for a bucket mapped to OSS_REGION by name.
  const bucketRegions = Object.fromEntries(
    [...regions.map].map(([bucket, region]) => [bucket, { region, endpoint: region === e.OSS_REGION ? endpoint : endpointOf(region) }]),
  );
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError(['HTTP_HEADERS_TIMEOUT_SECONDS: must not be larger than HTTP_REQUEST_TIMEOUT_SECONDS']);
  }
  if (e.CREDENTIALS_EXPIRY_MARGIN_SECONDS >= e.CREDENTIALS_REFRESH_AHEAD_SECONDS) {
    throw new ConfigError(['CREDENTIALS_REFRESH_AHEAD_SECONDS: must be larger than CREDENTIALS_EXPIRY_MARGIN_SECONDS']);
  }
  if (e.SHUTDOWN_GRACE_SECONDS > e.SHUTDOWN_DRAIN_SECONDS) {
    throw new ConfigError(['SHUTDOWN_GRACE_SECONDS: must not be larger than SHUTDOWN_DRAIN_SECONDS']);
  }
  if (e.MAX_STREAMS_PER_TOKEN !== undefined && e.MAX_STREAMS_PER_TOKEN > e.MAX_CONCURRENT_STREAMS) {
    throw new ConfigError(['MAX_STREAMS_PER_TOKEN: must not be larger than MAX_CONCURRENT_STREAMS']);
  }
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    oss: {
      region: e.OSS_REGION,
      endpoint,
      bucketRegions,
      signatureVersion: e.OSS_SIGNATURE_VERSION === '1' ? 1 : 4,
      idleTimeoutMs: e.OSS_IDLE_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: e.OSS_REQUEST_TIMEOUT_SECONDS * 1000,
      verifyCrc64: e.OSS_VERIFY_CRC64 === 'true' || e.OSS_VERIFY_CRC64 === '1',
    },
    allow: allow.value,
    delivery: {
      default: e.OBJECT_DELIVERY,
      redirectExpiresSeconds: e.REDIRECT_EXPIRES_SECONDS,
      publicEndpoint: e.OSS_PUBLIC_ENDPOINT ?? endpoint,
    },
    credentials: credentialsConfig(e),
    downloadRoot: path.resolve(e.DOWNLOAD_ROOT),
    downloadRootShared: e.DOWNLOAD_ROOT_SHARED === 'true' || e.DOWNLOAD_ROOT_SHARED === '1',
    downloads: {
      concurrency: e.DOWNLOAD_CONCURRENCY,
      thresholdBytes: e.DOWNLOAD_THRESHOLD_MB * MiB,
      partSizeBytes: e.DOWNLOAD_PART_SIZE_MB * MiB,
      parallelism: e.DOWNLOAD_PARALLELISM,
      filesParallelism: e.DOWNLOAD_FILES_PARALLELISM,
      resumeOnStart: e.DOWNLOAD_RESUME_ON_START === 'true' || e.DOWNLOAD_RESUME_ON_START === '1',
    },
    logLevel: e.LOG_LEVEL,
    shutdown: { graceMs: e.SHUTDOWN_GRACE_SECONDS * 1000, drainMs: e.SHUTDOWN_DRAIN_SECONDS * 1000 },
    auth: {
      mode: e.AUTH_TOKENS_FILE ? 'tokens' : (e.AUTH_MODE ?? 'unset'),
      tokensFile: e.AUTH_TOKENS_FILE ? path.resolve(e.AUTH_TOKENS_FILE) : undefined,
      metricsRequireToken: e.METRICS_AUTH === 'token',
    },
    allowCidrs: cidrs?.ok ? cidrs.value : null,
    trustProxy: trustProxy.value,
    corsOrigins: cors?.ok ? cors.value : null,
    httpLimits: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
      maxHeaderBytes: e.HTTP_MAX_HEADER_BYTES,
      maxUrlBytes: e.HTTP_MAX_URL_BYTES,
      maxJsonBodyBytes: e.JSON_BODY_LIMIT_BYTES,
      maxConcurrentStreams: e.MAX_CONCURRENT_STREAMS,
      maxStreamsPerToken: e.MAX_STREAMS_PER_TOKEN ?? defaultStreamsPerToken(e.MAX_CONCURRENT_STREAMS),
      maxDownloadsPerToken: e.MAX_DOWNLOADS_PER_TOKEN,
      clientStallTimeoutMs: e.CLIENT_STALL_TIMEOUT_SECONDS * 1000,
    },
  });
}

const DEFAULT_ENDPOINT_TEMPLATE = 'https://oss-{region}-internal.aliyuncs.com';

/**
 * OSS_BUCKET_REGIONS (`bucket-a=cn-shanghai,bucket-b=ap-southeast-1`) and
 * OSS_ENDPOINT_TEMPLATE (`{region}` is replaced; without it every mapped
 * region goes to that one endpoint, e.g. a gateway that routes by Host).
 */
function bucketRegionProblems(env: NodeJS.ProcessEnv): { problems: string[]; map: Map<string, string> } {
  const problems: string[] = [];
  const map = new Map<string, string>();
  for (const entry of (env.OSS_BUCKET_REGIONS ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const [bucket, region, ...extra] = entry.split('=').map((part) => part.trim());
    if (region === undefined || extra.length > 0 || !isValidBucketName(bucket) || !REGION.test(region)) {
      problems.push(`OSS_BUCKET_REGIONS: "${entry}" is not bucket=region (for example my-bucket=cn-shanghai)`);
    } else if (map.has(bucket) && map.get(bucket) !== region) {
      problems.push(`OSS_BUCKET_REGIONS: bucket ${bucket} is given two regions`);
    } else {
      map.set(bucket, region);
    }
  }
  const template = env.OSS_ENDPOINT_TEMPLATE?.trim();
  if (template && !httpUrl.safeParse(template.replaceAll('{region}', 'cn-hangzhou')).success) {
    problems.push(
      'OSS_ENDPOINT_TEMPLATE: must be an http:// or https:// URL once {region} is replaced (for example https://oss-{region}.aliyuncs.com)',
    );
  }
  return { problems, map };
}

/**
 * AUTH_TOKENS_FILE as loadConfig resolves it, readable when other variables
 * are bad: server.ts checks the file too, so one message names every problem.
 */
export function tokensFilePath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.AUTH_TOKENS_FILE?.trim();
  return file ? path.resolve(file) : undefined;
}

function authProblems(env: NodeJS.ProcessEnv): string[] {
  const mode = env.AUTH_MODE?.trim();
  const file = env.AUTH_TOKENS_FILE?.trim();
  if (mode === 'none' && file) return ['AUTH_MODE: none contradicts AUTH_TOKENS_FILE; set one of them'];
  if (mode === 'tokens' && !file) return ['AUTH_TOKENS_FILE: is required when AUTH_MODE=tokens'];
  return [];
}

/**
 * The `oss-download` command line reads the same variables, but it acts for the
 * operator at the shell, not for whoever reaches a port: OSS_ALLOW defaults to
 * `*` there (the role's own policy still applies).
 */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  return loadConfig({ OSS_ALLOW: '*', ...env });
}

const REQUIRED_BY_SOURCE: Record<CredentialsSourceName, string[]> = {
  ecs_ram_role: [],
  credentials_uri: ['ALIBABA_CLOUD_CREDENTIALS_URI'],
  access_key: ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
  oidc_role_arn: ['ALIBABA_CLOUD_ROLE_ARN', 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN', 'ALIBABA_CLOUD_OIDC_TOKEN_FILE'],
};

function credentialProblems(env: NodeJS.ProcessEnv): string[] {
  const source = (env.CREDENTIALS_SOURCE?.trim() || 'ecs_ram_role') as CredentialsSourceName;
  const required = REQUIRED_BY_SOURCE[source] ?? []; // an unknown source is reported by the schema
  return required.filter((name) => !env[name]?.trim()).map((name) => `${name}: is required when CREDENTIALS_SOURCE=${source}`);
}

function credentialsConfig(e: Env): CredentialsConfig {
  return {
    source: e.CREDENTIALS_SOURCE,
    ecsRoleName: e.ALIBABA_CLOUD_ECS_METADATA,
    // Hardened mode (a metadata token on every call) unless explicitly allowed otherwise.
    imdsV1Allowed: e.ALIBABA_CLOUD_IMDSV1_DISABLED?.toLowerCase() === 'false',
    credentialsUri: e.ALIBABA_CLOUD_CREDENTIALS_URI,
    accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    oidc:
      e.ALIBABA_CLOUD_ROLE_ARN && e.ALIBABA_CLOUD_OIDC_PROVIDER_ARN && e.ALIBABA_CLOUD_OIDC_TOKEN_FILE
        ? {
            roleArn: e.ALIBABA_CLOUD_ROLE_ARN,
            providerArn: e.ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
            tokenFile: e.ALIBABA_CLOUD_OIDC_TOKEN_FILE,
            roleSessionName: e.ALIBABA_CLOUD_ROLE_SESSION_NAME ?? 'oss-download-service',
            stsEndpoint: e.ALIBABA_CLOUD_STS_ENDPOINT,
          }
        : undefined,
    expiryMarginMs: e.CREDENTIALS_EXPIRY_MARGIN_SECONDS * 1000,
    refreshAheadMs: e.CREDENTIALS_REFRESH_AHEAD_SECONDS * 1000,
    retryIntervalMs: e.CREDENTIALS_RETRY_SECONDS * 1000,
  };
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
