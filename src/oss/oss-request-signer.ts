import { isIP } from 'node:net';
import path from 'node:path';
import { stringify } from 'node:querystring';
import OSS from 'ali-oss';
import mime from 'mime';
import type { StsCredentials } from '../credentials/credential-provider-wrapper';
import type { AliOssHeaderSigning, AliOssOptions } from './ali-oss-internals';

/**
 * An OSS request, addressed and signed in the Authorization header exactly as
 * ali-oss 6.23's own request path does it (lib/common/utils/createRequest.js
 * and lib/common/client/getReqUrl.js), with ali-oss's signing functions: the
 * same method, path, query, Host and header set on the wire, which other OSS
 * implementations already accept (test/integration/oss-wire-parity.test.ts
 * holds the bytes ali-oss sent). Nothing here sends.
 */

export interface RegionEndpoint {
  region: string;
  endpoint: string;
}

export interface OssRequest {
  method: 'GET' | 'HEAD';
  bucket: string;
  /** '' for a bucket request (a listing). */
  key: string;
  /** Sub-resources (`versionId`, `versions`, `continuation-token`): in the query, and signed by V1 as by V4. */
  subres?: Readonly<Record<string, string>>;
  /** Other query parameters: signed by V4 only, as OSS expects. */
  query?: Readonly<Record<string, string>>;
  headers?: Readonly<Record<string, string>>;
}

export interface SignedRequest {
  /** The method it was signed for: the only one it may be sent with. */
  method: 'GET' | 'HEAD';
  /** `http://127.0.0.1:PORT` for an IP endpoint, else `https://{bucket}.{endpoint host}`. */
  origin: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
}

export interface OssRequestSignerOptions {
  /** e.g. cn-beijing */
  region: string;
  /** e.g. https://oss-cn-beijing-internal.aliyuncs.com, or http://127.0.0.1:PORT for an emulator */
  endpoint: string;
  /** Buckets in other regions (OSS_BUCKET_REGIONS): signed for their region, sent to their endpoint. */
  bucketRegions?: Readonly<Record<string, RegionEndpoint>>;
  signatureVersion: 1 | 4;
}

/** A handful of triples live at once (the current one, the one before a rotation) per region. */
const MAX_CACHED_CLIENTS = 16;

export class OssRequestSigner {
  /** Signing clients by triple and region: never one triple's client for another's request. */
  private readonly clients = new Map<string, AliOssHeaderSigning>();

  constructor(private readonly options: OssRequestSignerOptions) {}

  /** The bucket's region (OSS_BUCKET_REGIONS, else OSS_REGION) and endpoint. */
  target(bucket: string): RegionEndpoint {
    return this.options.bucketRegions?.[bucket] ?? { region: this.options.region, endpoint: this.options.endpoint };
  }

  sign(request: OssRequest, creds: StsCredentials, now = new Date()): SignedRequest {
    const { region, endpoint } = this.target(request.bucket);
    const client = this.client(creds, region);
    const v4 = this.options.signatureVersion === 4;
    const headers: Record<string, string> = {
      'x-oss-date': v4 ? now.toISOString().replace(/[-:]|\.\d{3}/g, '') : now.toUTCString(),
      ...(v4 ? { 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' } : {}),
      'User-Agent': client.userAgent,
      ...(creds.securityToken ? { 'x-oss-security-token': creds.securityToken } : {}),
      ...request.headers,
    };
    // ali-oss sends (and signs) a Content-Type guessed from the key's extension, on a GET too.
    const contentType = mime.getType(path.extname(request.key));
    if (contentType) headers['Content-Type'] = contentType;
    headers.authorization = v4
      ? client.authorizationV4(request.method, { headers, queries: signedQueries(request) }, request.bucket, request.key)
      : client.authorization(request.method, `/${request.bucket}/${request.key}`, request.subres, headers);
    const base = new URL(endpoint);
    const ipEndpoint = isIP(base.hostname.replace(/^\[|\]$/g, '')) !== 0;
    // An IP endpoint (an emulator, a gateway) is asked path-less, with the bucket's OSS host name in Host.
    if (ipEndpoint) headers.host = `${request.bucket}.oss-${region}.aliyuncs.com`;
    return {
      method: request.method,
      origin: ipEndpoint ? base.origin : `${base.protocol}//${request.bucket}.${base.host}`,
      path: requestPath(request),
      headers,
    };
  }

  private client(creds: StsCredentials, region: string): AliOssHeaderSigning {
    const key = `${creds.accessKeyId}\n${creds.accessKeySecret}\n${creds.securityToken}\n${region}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      if (this.clients.size >= MAX_CACHED_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
      const options: AliOssOptions = {
        ...credentialOptions(creds),
        // V4 signs with this region: a bucket of another region needs its own.
        region: `oss-${region}`,
        authorizationV4: this.options.signatureVersion === 4,
      };
      client = new OSS(options) as unknown as AliOssHeaderSigning;
      this.clients.set(key, client);
    }
    return client;
  }
}

/** The triple as ali-oss takes it, for a client that signs with it and nothing else: the store's and the URL signer's. */
export function credentialOptions(
  creds: StsCredentials,
): Pick<AliOssOptions, 'accessKeyId' | 'accessKeySecret' | 'stsToken' | 'refreshSTSTokenInterval'> {
  return {
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    stsToken: creds.securityToken || undefined,
    // ali-oss warns on every client built with a token but no refresh interval;
    // its timer-driven refresh is never used here (a client signs for one triple only).
    refreshSTSTokenInterval: Number.MAX_SAFE_INTEGER,
  };
}

/** What V4 signs of the query: every parameter, a sub-resource without a value as a bare name. */
function signedQueries(request: OssRequest): Record<string, string | null> {
  const queries: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(request.subres ?? {})) queries[name] = value === '' ? null : value;
  return Object.assign(queries, request.query);
}

/** `/{key}` with `/` kept and everything else percent-encoded; the query parameters first, then the sub-resources. */
function requestPath(request: OssRequest): string {
  const query = stringify({ ...request.query, ...request.subres });
  return `/${encodeURIComponent(request.key).replace(/%2F/g, '/')}${query ? `?${query}` : ''}`;
}
