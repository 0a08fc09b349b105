import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { AppError, isAppError } from '../errors';
import type { CredentialsProvider, StsCredentials } from '../credentials/credential-provider-wrapper';
import { parseObjectListing } from './object-listing';
import type { ListPage, ListRequest, ObjectRequest, ObjectResponse, ObjectStore, VersionListRequest, VersionPage } from './object-store';
import { OssRequestSigner, type OssRequest, type RegionEndpoint } from './oss-request-signer';
import { OssTransport, type OssAnswer } from './oss-transport';
import {
  CREDENTIAL_REJECTED_CODES,
  isWrongRegion,
  networkError,
  parseErrorXml,
  toAppError,
  type FailureContext,
  type OssFailure,
} from './oss-errors';
import { decodeVersionCursor, parseVersionListing } from './version-listing';

export type { RegionEndpoint } from './oss-request-signer';

/**
 * The ObjectStore on OSS: each request signed with the triple the
 * CredentialsProvider hands out at that moment (ali-oss's own header signing,
 * oss-request-signer.ts) and sent over undici (oss-transport.ts). ali-oss's
 * request path is not used: it has no per-request credentials provider (its
 * refreshSTSToken runs on a timer, unguarded, so parallel requests can go out
 * with an old triple), it throws a streamed request's error body away, and
 * urllib cost more CPU per request than the rest of the OSS path.
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
  /** Resolves OSS host names; default: the system's. (Tests resolve every name to loopback.) */
  lookup?: LookupFunction;
}

/** An OSS error document is small; never buffer more than this of one. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A page of 1,000 versions with 1,023-byte keys, URL-encoded, stays well under this. */
const MAX_LISTING_BODY_BYTES = 16 * 1024 * 1024;

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: OssFailure };

export class AliOssStore implements ObjectStore {
  private readonly signer: OssRequestSigner;
  private readonly transport: OssTransport;

  constructor(private readonly options: AliOssStoreOptions) {
    this.signer = new OssRequestSigner(options);
    this.transport = new OssTransport(options);
  }

  getObject(request: ObjectRequest): Promise<ObjectResponse> {
    return this.fetchObject('GET', request);
  }

  headObject(request: ObjectRequest): Promise<ObjectResponse> {
    return this.fetchObject('HEAD', request);
  }

  async listObjects(request: ListRequest): Promise<ListPage> {
    const xml = await this.readListing(`the listing of bucket ${request.bucket}`, {
      method: 'GET',
      bucket: request.bucket,
      key: '',
      query: {
        'list-type': '2',
        // An empty prefix is left out: V4 would sign `prefix=` where OSS canonicalises it as `prefix`.
        ...(request.prefix ? { prefix: request.prefix } : {}),
        'max-keys': String(request.limit),
        ...(request.delimiter ? { delimiter: request.delimiter } : {}),
      },
      // A sub-resource, as ali-oss's listV2 sends it: V1 signs it too.
      subres: request.cursor ? { 'continuation-token': request.cursor } : undefined,
    });
    return parseObjectListing(xml);
  }

  /**
   * ListObjectVersions (`GET /?versions`), read here rather than through
   * ali-oss's getBucketVersions: that one returns versions and delete markers
   * as two lists (their order between each other lost) and drops a delete
   * marker's IsLatest. Keys come URL-encoded (`encoding-type=url`), so a key
   * with characters XML cannot carry still lists.
   */
  async listObjectVersions(request: VersionListRequest): Promise<VersionPage> {
    const marker = request.cursor === undefined ? undefined : decodeVersionCursor(request.cursor);
    const xml = await this.readListing(`the versions in bucket ${request.bucket}`, {
      method: 'GET',
      bucket: request.bucket,
      key: '',
      query: {
        // Left out when empty, as in listObjects: V4 would sign `prefix=` where OSS reads `prefix`.
        ...(request.prefix ? { prefix: request.prefix } : {}),
        'max-keys': String(request.limit),
        'encoding-type': 'url',
        ...(marker ? { 'key-marker': marker.keyMarker, 'version-id-marker': marker.versionIdMarker } : {}),
      },
      subres: { versions: '' },
    });
    return parseVersionListing(xml);
  }

  /** Cuts every OSS connection: the service's close path, after the drain. */
  close(): Promise<void> {
    return this.transport.close();
  }

  private async readListing(what: string, request: OssRequest): Promise<string> {
    const answer = await this.withFreshCredentials(what, this.context(request.bucket), (creds) => this.send(request, creds, what));
    const body = await readBody(answer.body, MAX_LISTING_BODY_BYTES).catch((err: unknown) => {
      throw new AppError('UpstreamUnavailable', `OSS broke off ${what}.`, { cause: err });
    });
    if (body.overflow) throw new AppError('UpstreamUnavailable', `OSS sent more than ${MAX_LISTING_BODY_BYTES} bytes for one page of ${what}.`);
    return body.text;
  }

  private async fetchObject(method: 'GET' | 'HEAD', request: ObjectRequest): Promise<ObjectResponse> {
    const what = `object ${request.key} in bucket ${request.bucket}`;
    const context = { ...this.context(request.bucket), versionId: request.versionId };
    const answer = await this.withFreshCredentials(what, context, (creds) => this.sendForObject(method, request, creds, what));
    const body = method === 'GET' && answer.status !== 304 ? answer.body : null;
    if (body === null)
      answer.body.resume(); // nothing to read: free the connection for the next request
    else failStallsAsUpstreamUnavailable(body, what);
    return { status: answer.status as ObjectResponse['status'], headers: answer.headers, body };
  }

  /**
   * Run `attempt` with the current triple; when OSS refuses the triple itself
   * (rotated away, revoked), ask the provider for a new one and try once more.
   */
  private async withFreshCredentials<T>(what: string, context: FailureContext, attempt: (creds: StsCredentials) => Promise<Outcome<T>>): Promise<T> {
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

  private context(bucket: string): FailureContext {
    return { bucket, region: this.signer.target(bucket).region };
  }

  /** One request with one triple; every answer is read here (a 301 is OSS sending the caller to the bucket's region: a failure, never a redirect to follow). */
  private async send(request: OssRequest, creds: StsCredentials, what: string): Promise<Outcome<OssAnswer>> {
    const signed = this.signer.sign(request, creds);
    let answer: OssAnswer;
    try {
      answer = await this.transport.send(signed);
    } catch (err) {
      throw this.noAnswer(err, what);
    }
    if (answer.status < 400 && answer.status !== 301) {
      this.options.onUpstreamResponse?.({ status: answer.status });
      return { ok: true, value: answer };
    }
    const failure = await readFailure(answer, request.method);
    this.options.onUpstreamResponse?.({ status: failure.status, code: failure.code });
    return { ok: false, failure };
  }

  private async sendForObject(method: 'GET' | 'HEAD', request: ObjectRequest, creds: StsCredentials, what: string): Promise<Outcome<OssAnswer>> {
    const outcome = await this.send(objectRequest(method, request.bucket, request.key, upstreamHeaders(request), request.versionId), creds, what);
    if (!outcome.ok && outcome.failure.status === 416 && outcome.failure.objectSize === undefined) {
      outcome.failure.objectSize = await this.objectSize(request, creds);
    }
    return outcome;
  }

  /** For `Content-Range: bytes *\/size` on a 416, when OSS's answer did not say the size. */
  private async objectSize(request: ObjectRequest, creds: StsCredentials): Promise<number | undefined> {
    try {
      const head = await this.transport.send(this.signer.sign(objectRequest('HEAD', request.bucket, request.key, {}, request.versionId), creds));
      head.body.resume();
      const length = Number(head.headers['content-length']);
      return head.status === 200 && Number.isFinite(length) ? length : undefined;
    } catch {
      return undefined;
    }
  }

  private noAnswer(err: unknown, what: string): unknown {
    if (isAppError(err)) return err;
    const error = networkError(err, what);
    this.options.onUpstreamResponse?.({ status: 0, code: error.status === 504 ? 'Timeout' : 'ConnectionFailed' });
    return error;
  }
}

/**
 * A body that stalls past OSS_IDLE_TIMEOUT_SECONDS fails with this project's
 * error, as it did before undici: UpstreamUnavailable, 504 (a download
 * retries it and, out of attempts, reports that code rather than
 * InternalError). undici destroys the body with its BodyTimeoutError through
 * `body.destroy(err)`, the one place to swap it.
 */
function failStallsAsUpstreamUnavailable(body: Readable, what: string): void {
  (body as Watched)[WHAT] = what;
  body.destroy = destroyReportingStalls;
}

const WHAT = Symbol('what the body is of');
type Watched = Readable & { [WHAT]: string };

/** A module function reading its body's name through a symbol, not a closure per body (bench/ANALYSIS.md, "The lean request path"). */
function destroyReportingStalls(this: Readable, error?: Error): Readable {
  const stalled = (error as { code?: unknown } | undefined)?.code === 'UND_ERR_BODY_TIMEOUT';
  const own = stalled ? new AppError('UpstreamUnavailable', `OSS stopped sending ${(this as Watched)[WHAT]}.`, { status: 504, cause: error }) : error;
  return Readable.prototype.destroy.call(this, own);
}

/** As ali-oss's getStream and head send options.versionId: a sub-resource, so V1 signs it too. */
function objectRequest(
  method: 'GET' | 'HEAD',
  bucket: string,
  key: string,
  headers: Record<string, string>,
  versionId: string | undefined,
): OssRequest {
  return { method, bucket, key, headers, subres: versionId === undefined ? undefined : { versionId } };
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

async function readFailure(answer: OssAnswer, method: string): Promise<OssFailure> {
  const headers = answer.headers;
  // HEAD answers have no body; OSS puts the error document, base64, in x-oss-err. The
  // empty response is still read to its end, so its keep-alive connection is reused.
  if (method === 'HEAD') answer.body.resume();
  const xml =
    method === 'HEAD'
      ? Buffer.from(headers['x-oss-err'] ?? '', 'base64').toString('utf8')
      : await readBody(answer.body, MAX_ERROR_BODY_BYTES).then(
          (body) => body.text,
          () => '',
        );
  const parsed = parseErrorXml(xml);
  const sizeMatch = /^bytes \*\/(\d+)$/.exec(headers['content-range'] ?? '');
  const code = parsed.code ?? headers['x-oss-error-code'];
  return {
    status: answer.status,
    code,
    requestId: parsed.requestId ?? headers['x-oss-request-id'],
    objectSize: sizeMatch ? Number(sizeMatch[1]) : undefined,
    endpoint: parsed.endpoint,
    deleteMarker: headers['x-oss-delete-marker'] === 'true',
    wrongRegion: isWrongRegion(answer.status, code, parsed.endpoint),
  };
}

/** The body as text, at most `maxBytes` of it (`overflow` when there was more). The transport's body timeout bounds a stall. */
function readBody(body: Readable, maxBytes: number): Promise<{ text: string; overflow: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    body.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        body.destroy();
        resolve({ text: Buffer.concat(chunks).toString('utf8'), overflow: true });
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), overflow: false }));
    body.on('error', reject);
  });
}
