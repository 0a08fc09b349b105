import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import OSS from 'ali-oss';
import type { AliOssOptions, RawOssClient, RawResponse } from './ali-oss-internals';
import { AppError, isAppError } from '../errors';
import type { CredentialsProvider, StsCredentials } from '../credentials/credentials-provider';
import { watchIdleBody } from './idle-watchdog';
import type { ListPage, ListRequest, ObjectRequest, ObjectResponse, ObjectStore, VersionListRequest, VersionPage } from './object-store';
import {
  CREDENTIAL_REJECTED_CODES,
  isWrongRegion,
  networkError,
  parseErrorXml,
  toAppError,
  WRONG_ENDPOINT_MESSAGE,
  type FailureContext,
  type OssFailure,
} from './oss-errors';
import { decodeVersionCursor, parseVersionListing } from './version-listing';

/**
 * The only module that imports ali-oss.
 *
 * ali-oss has no per-request credentials provider (its refreshSTSToken runs on
 * a timer, unguarded, so parallel requests can go out with an old triple).
 * Building a client costs microseconds and all clients share this module's
 * keep-alive agents, so every OSS request here gets a client built from the
 * triple the CredentialsProvider hands out at that moment.
 */

export interface AliOssStoreOptions {
  credentials: CredentialsProvider;
  /** e.g. cn-beijing */
  region: string;
  /** e.g. https://oss-cn-beijing-internal.aliyuncs.com, or http://127.0.0.1:PORT for an emulator */
  endpoint: string;
  /** Buckets in other regions (OSS_BUCKET_REGIONS): each one's region and endpoint; the others use region and endpoint above. */
  bucketRegions?: Readonly<Record<string, RegionEndpoint>>;
  signatureVersion: 1 | 4;
  /** Time for OSS to answer with headers. */
  requestTimeoutMs: number;
  /** Abort a body that sends nothing for this long. */
  idleTimeoutMs: number;
  /** Called once per request sent to OSS (metrics); status 0 when no answer came (code Timeout or ConnectionFailed). */
  onUpstreamResponse?: (event: { status: number; code?: string }) => void;
  /** Called when OSS says a bucket lives in another region than the one it was sent to (metrics). */
  onWrongRegion?: (bucket: string) => void;
}

export interface RegionEndpoint {
  region: string;
  endpoint: string;
}

/** ali-oss throws on any status not listed; the store reads every answer itself. */
const EVERY_STATUS = Array.from({ length: 500 }, (_, i) => 100 + i);
/** An OSS error document is small; never buffer more than this of one. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A page of 1,000 versions with 1,023-byte keys, URL-encoded, stays well under this. */
const MAX_LISTING_BODY_BYTES = 16 * 1024 * 1024;

const agentOptions = { keepAlive: true, keepAliveMsecs: 15_000, maxFreeSockets: 64 };

export class AliOssStore implements ObjectStore {
  private readonly httpAgent = new http.Agent(agentOptions);
  private readonly httpsAgent = new https.Agent(agentOptions);

  constructor(private readonly options: AliOssStoreOptions) {}

  getObject(request: ObjectRequest): Promise<ObjectResponse> {
    return this.fetchObject('GET', request);
  }

  headObject(request: ObjectRequest): Promise<ObjectResponse> {
    return this.fetchObject('HEAD', request);
  }

  async listObjects(request: ListRequest): Promise<ListPage> {
    const what = `the listing of bucket ${request.bucket}`;
    const list = (creds: StsCredentials) =>
      this.client(creds, request.bucket).listV2(
        {
          // An empty prefix is left out: ali-oss signs it as `prefix=` in V4, OSS canonicalises it as `prefix`.
          ...(request.prefix ? { prefix: request.prefix } : {}),
          'max-keys': String(request.limit),
          ...(request.delimiter ? { delimiter: request.delimiter } : {}),
          ...(request.cursor ? { 'continuation-token': request.cursor } : {}),
        },
        { timeout: this.options.requestTimeoutMs },
      );
    const result = await this.withFreshCredentials(what, this.context(request.bucket), async (creds) => {
      try {
        return { ok: true as const, value: await list(creds) };
      } catch (err) {
        return { ok: false as const, failure: listFailure(err, what) };
      }
    });
    return {
      objects: result.objects.map((o) => ({
        key: o.name,
        size: o.size,
        etag: o.etag,
        lastModified: o.lastModified,
        storageClass: o.storageClass,
      })),
      prefixes: (result.prefixes) ?? [],
      nextCursor: result.isTruncated ? (result.nextContinuationToken ?? null) : null,
    };
  }

  /**
   * ListObjectVersions (`GET /?versions`), read here rather than through
   * ali-oss's getBucketVersions: that one returns versions and delete markers
   * as two lists (their order between each other lost) and drops a delete
   * marker's IsLatest. Keys come URL-encoded (`encoding-type=url`), so a key
   * with characters XML cannot carry still lists.
   */
  async listObjectVersions(request: VersionListRequest): Promise<VersionPage> {
    const what = `the versions in bucket ${request.bucket}`;
    const marker = request.cursor === undefined ? undefined : decodeVersionCursor(request.cursor);
    const query: Record<string, string> = {
      // Left out when empty, as in listObjects: V4 would sign `prefix=` where OSS reads `prefix`.
      ...(request.prefix ? { prefix: request.prefix } : {}),
      'max-keys': String(request.limit),
      'encoding-type': 'url',
      ...(marker ? { 'key-marker': marker.keyMarker, 'version-id-marker': marker.versionIdMarker } : {}),
    };
    const xml = await this.withFreshCredentials(what, this.context(request.bucket), (creds) =>
      this.sendBucketRequest(creds, request.bucket, { versions: '' }, query, what),
    );
    return parseVersionListing(xml);
  }

  private async sendBucketRequest(
    creds: StsCredentials,
    bucket: string,
    subres: Record<string, string>,
    query: Record<string, string>,
    what: string,
  ): Promise<{ ok: true; value: string } | { ok: false; failure: OssFailure }> {
    const raw = this.client(creds, bucket) as unknown as RawOssClient;
    const params = raw._objectRequestParams('GET', '', { subres, timeout: this.options.requestTimeoutMs });
    params.query = query;
    params.customResponse = true;
    params.successStatuses = EVERY_STATUS;
    let response: RawResponse;
    try {
      response = await raw.request(params);
    } catch (err) {
      throw this.noAnswer(err, what);
    }
    if (response.status >= 400 || response.status === 301) {
      const failure = await readFailure(response, 'GET', this.options.idleTimeoutMs);
      this.options.onUpstreamResponse?.({ status: failure.status, code: failure.code });
      return { ok: false, failure };
    }
    this.options.onUpstreamResponse?.({ status: response.status });
    const body = await readBody(response.res, this.options.idleTimeoutMs, MAX_LISTING_BODY_BYTES).catch((err: unknown) => {
      throw new AppError('UpstreamUnavailable', `OSS broke off ${what}.`, { cause: err });
    });
    if (body.overflow) throw new AppError('UpstreamUnavailable', `OSS sent more than ${MAX_LISTING_BODY_BYTES} bytes for one page of ${what}.`);
    return { ok: true, value: body.text };
  }

  private async fetchObject(method: 'GET' | 'HEAD', request: ObjectRequest): Promise<ObjectResponse> {
    const what = `object ${request.key} in bucket ${request.bucket}`;
    const context = { ...this.context(request.bucket), versionId: request.versionId };
    const response = await this.withFreshCredentials(what, context, (creds) => this.send(method, request, creds, what));
    const body = method === 'GET' && response.status !== 304 ? response.res : null;
    if (body) {
      watchIdleBody(body, this.options.idleTimeoutMs, () =>
        body.destroy(new AppError('UpstreamUnavailable', `OSS stopped sending ${what}.`, { status: 504 })),
      );
    } else {
      response.res.resume(); // nothing to read: free the socket for the next request
    }
    return { status: response.status as ObjectResponse['status'], headers: flatHeaders(response.headers), body };
  }

  /**
   * Run `attempt` with the current triple; when OSS refuses the triple itself
   * (rotated away, revoked), ask the provider for a new one and try once more.
   */
  private async withFreshCredentials<T>(
    what: string,
    context: FailureContext,
    attempt: (creds: StsCredentials) => Promise<{ ok: true; value: T } | { ok: false; failure: OssFailure }>,
  ): Promise<T> {
    const creds = await this.options.credentials.getCredentials();
    let outcome = await attempt(creds);
    if (!outcome.ok && outcome.failure.code && CREDENTIAL_REJECTED_CODES.has(outcome.failure.code)) {
      const fresh = await this.options.credentials.refreshAfterRejection(creds);
      if (fresh) outcome = await attempt(fresh);
    }
    if (!outcome.ok) {
      if (outcome.failure.wrongRegion) this.options.onWrongRegion?.(context.bucket);
      throw toAppError(outcome.failure, what, context);
    }
    return outcome.value;
  }

  /** The bucket's region (OSS_BUCKET_REGIONS, else OSS_REGION) and endpoint. */
  private target(bucket: string): RegionEndpoint {
    return this.options.bucketRegions?.[bucket] ?? { region: this.options.region, endpoint: this.options.endpoint };
  }

  private context(bucket: string): FailureContext {
    return { bucket, region: this.target(bucket).region };
  }

  private noAnswer(err: unknown, what: string): unknown {
    if (isAppError(err)) return err;
    const error = networkError(err, what);
    this.options.onUpstreamResponse?.({ status: 0, code: error.status === 504 ? 'Timeout' : 'ConnectionFailed' });
    return error;
  }

  private async send(
    method: 'GET' | 'HEAD',
    request: ObjectRequest,
    creds: StsCredentials,
    what: string,
  ): Promise<{ ok: true; value: RawResponse } | { ok: false; failure: OssFailure }> {
    const client = this.client(creds, request.bucket);
    let response: RawResponse;
    try {
      response = await this.rawRequest(client, method, request.key, upstreamHeaders(request), request.versionId);
    } catch (err) {
      throw this.noAnswer(err, what);
    }
    // A 301 is OSS sending the caller to the bucket's region: a failure here, never a redirect to follow.
    if (response.status < 400 && response.status !== 301) {
      this.options.onUpstreamResponse?.({ status: response.status });
      return { ok: true, value: response };
    }
    const failure = await readFailure(response, method, this.options.idleTimeoutMs);
    this.options.onUpstreamResponse?.({ status: failure.status, code: failure.code });
    if (failure.status === 416 && failure.objectSize === undefined) {
      failure.objectSize = await this.objectSize(client, request.key, request.versionId);
    }
    return { ok: false, failure };
  }

  /** For `Content-Range: bytes *\/size` on a 416, when OSS's answer did not say the size. */
  private async objectSize(client: OSS, key: string, versionId: string | undefined): Promise<number | undefined> {
    try {
      const head = await this.rawRequest(client, 'HEAD', key, {}, versionId);
      head.res.resume();
      const length = Number(flatHeaders(head.headers)['content-length']);
      return head.status === 200 && Number.isFinite(length) ? length : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * ali-oss's own request path (signing, agents, timeouts), reading every
   * answer ourselves: on a streamed request ali-oss throws the error body away,
   * so a 403 would come back as "UnknownError" and a missing bucket as NoSuchKey.
   */
  private rawRequest(client: OSS, method: string, key: string, headers: Record<string, string>, versionId?: string): Promise<RawResponse> {
    const raw = client as unknown as RawOssClient;
    // As ali-oss's getStream and head do with options.versionId: a sub-resource, so V1 signs it too.
    const subres = versionId === undefined ? undefined : { versionId };
    const params = raw._objectRequestParams(method, key, { headers, timeout: this.options.requestTimeoutMs, subres });
    params.customResponse = true;
    params.successStatuses = EVERY_STATUS;
    return raw.request(params);
  }

  private client(creds: StsCredentials, bucket: string): OSS {
    const { region, endpoint } = this.target(bucket);
    const options: AliOssOptions = {
      ...credentialOptions(creds),
      bucket,
      endpoint,
      // V4 signs with this region: a bucket of another region needs its own.
      region: `oss-${region}`,
      secure: endpoint.startsWith('https:'),
      authorizationV4: this.options.signatureVersion === 4,
      timeout: this.options.requestTimeoutMs,
      agent: this.httpAgent,
      httpsAgent: this.httpsAgent,
    };
    return new OSS(options);
  }
}

/** The triple as ali-oss takes it, for a client that signs with it and nothing else: the store's and the URL signer's. */
export function credentialOptions(creds: StsCredentials): Pick<AliOssOptions, 'accessKeyId' | 'accessKeySecret' | 'stsToken' | 'refreshSTSTokenInterval'> {
  return {
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    stsToken: creds.securityToken || undefined,
    // ali-oss warns on every client built with a token but no refresh interval;
    // its timer-driven refresh is never used here (one client per request or signature).
    refreshSTSTokenInterval: Number.MAX_SAFE_INTEGER,
  };
}

/** The headers the caller's request turns into on the OSS request. */
function upstreamHeaders(request: ObjectRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  const p = request.preconditions;
  if (request.range) {
    headers.Range = request.range;
    // Without it OSS ignores an unsatisfiable range and sends the whole object
    // with 200; with it, a start past the end is 416 and an end past it is clamped.
    headers['x-oss-range-behavior'] = 'standard';
  }
  if (p.ifMatch) headers['If-Match'] = p.ifMatch;
  if (p.ifNoneMatch) headers['If-None-Match'] = p.ifNoneMatch;
  if (p.ifModifiedSince) headers['If-Modified-Since'] = p.ifModifiedSince;
  if (p.ifUnmodifiedSince) headers['If-Unmodified-Since'] = p.ifUnmodifiedSince;
  return headers;
}

async function readFailure(response: RawResponse, method: string, idleTimeoutMs: number): Promise<OssFailure> {
  const headers = flatHeaders(response.headers);
  // HEAD answers have no body; OSS puts the error document, base64, in x-oss-err. The
  // empty response is still read to its end, so its keep-alive connection is reused.
  if (method === 'HEAD') response.res.resume();
  const xml =
    method === 'HEAD'
      ? Buffer.from(headers['x-oss-err'] ?? '', 'base64').toString('utf8')
      : await readSmallBody(response.res, idleTimeoutMs).catch(() => '');
  const parsed = parseErrorXml(xml);
  const sizeMatch = /^bytes \*\/(\d+)$/.exec(headers['content-range'] ?? '');
  const code = parsed.code ?? headers['x-oss-error-code'];
  return {
    status: response.status,
    code,
    requestId: parsed.requestId ?? headers['x-oss-request-id'],
    objectSize: sizeMatch ? Number(sizeMatch[1]) : undefined,
    endpoint: parsed.endpoint,
    deleteMarker: headers['x-oss-delete-marker'] === 'true',
    wrongRegion: isWrongRegion(response.status, code, parsed.endpoint),
  };
}

async function readSmallBody(res: IncomingMessage, idleTimeoutMs: number): Promise<string> {
  return (await readBody(res, idleTimeoutMs, MAX_ERROR_BODY_BYTES)).text;
}

/** The body as text, at most `maxBytes` of it (`overflow` when there was more). */
function readBody(res: IncomingMessage, idleTimeoutMs: number, maxBytes: number): Promise<{ text: string; overflow: boolean }> {
  watchIdleBody(res, idleTimeoutMs, () => res.destroy(new Error('body stalled')));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    res.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        res.destroy();
        resolve({ text: Buffer.concat(chunks).toString('utf8'), overflow: true });
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), overflow: false }));
    res.on('error', reject);
  });
}

/** ali-oss's listV2 throws; its error carries status, Code and RequestId when OSS sent XML. */
function listFailure(err: unknown, what: string): OssFailure {
  const e = err as { status?: number; code?: string; requestId?: string; message?: string };
  if (typeof e.status !== 'number' || e.status < 100) throw networkError(err, what);
  // ali-oss keeps OSS's Message but not its <Endpoint>: the message is how a listing tells a bucket of another region.
  const wrongRegion = isWrongRegion(e.status, e.code, undefined) || (e.code === 'AccessDenied' && WRONG_ENDPOINT_MESSAGE.test(e.message ?? ''));
  return { status: e.status, code: e.code, requestId: e.requestId, wrongRegion };
}

function flatHeaders(headers: RawResponse['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
