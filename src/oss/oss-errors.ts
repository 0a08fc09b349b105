import { AppError } from '../errors';

/**
 * OSS's error answers, turned into this project's errors. OSS speaks XML
 * (`<Error><Code/><Message/><RequestId/>...</Error>`); only the Code is used:
 * the Message is never passed to a caller.
 */

/** Codes that mean "the credential you signed with is no good": refresh it and retry once. */
export const CREDENTIAL_REJECTED_CODES: ReadonlySet<string> = new Set(['InvalidAccessKeyId', 'SecurityTokenExpired', 'InvalidSecurityToken']);

export interface OssFailure {
  status: number;
  /** OSS's error Code, when the answer carried one. */
  code?: string;
  requestId?: string;
  /** The object size, from `Content-Range: bytes *\/size` on a 416. */
  objectSize?: number;
  /** OSS's `<Endpoint>`: where the bucket really is, on an answer for a bucket of another region. */
  endpoint?: string;
  /** `x-oss-delete-marker: true`: the version asked for (or the latest) is a delete marker. */
  deleteMarker?: boolean;
  /** OSS refused the bucket at this endpoint because it lives in another region. */
  wrongRegion?: boolean;
}

/** What was asked for, to name it in the error. */
export interface FailureContext {
  bucket: string;
  /** The region the request was sent to and signed for. */
  region: string;
  versionId?: string;
}

/**
 * A request for a bucket of another region: OSS answers 403 AccessDenied with
 * an `<Endpoint>` naming the bucket's own endpoint (what OSS does today), or
 * 301 PermanentRedirect (older answers, and some proxies in front of OSS).
 */
export function isWrongRegion(status: number, code: string | undefined, endpoint: string | undefined): boolean {
  return status === 301 || code === 'PermanentRedirect' || (code === 'AccessDenied' && endpoint !== undefined);
}

/** Read the Code out of an OSS error document (no XML parser needed for two fields). */
export function parseErrorXml(xml: string): { code?: string; requestId?: string; endpoint?: string } {
  const endpoint = xmlField(xml, 'Endpoint');
  // A host name only: it goes into a detail, and nothing else of OSS's text does.
  return {
    code: xmlField(xml, 'Code'),
    requestId: xmlField(xml, 'RequestId'),
    endpoint: endpoint && /^[A-Za-z0-9.:-]{1,128}$/.test(endpoint) ? endpoint : undefined,
  };
}

function xmlField(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]{1,256})</${name}>`).exec(xml);
  return match?.[1];
}

/** The code to assume when an answer has no body to read (HEAD, or a proxy's bare status). */
function codeFromStatus(status: number): string | undefined {
  switch (status) {
    case 403:
      return 'AccessDenied';
    case 404:
      return 'NoSuchKey';
    case 412:
      return 'PreconditionFailed';
    case 416:
      return 'InvalidRange';
    default:
      return undefined;
  }
}

export function toAppError(failure: OssFailure, what: string, context?: FailureContext): AppError {
  const code = failure.code ?? codeFromStatus(failure.status);
  const options = { ossRequestId: failure.requestId };
  if (context && failure.wrongRegion) return wrongRegionError(failure, context);
  if (context?.versionId !== undefined && (failure.deleteMarker || (code === 'MethodNotAllowed' && failure.status === 405))) {
    return new AppError('DeleteMarker', `Version ${context.versionId} of ${what} is a delete marker: it has no bytes.`, options);
  }
  switch (code) {
    case 'NoSuchVersion':
      return new AppError('NoSuchVersion', `${what} has no version ${context?.versionId ?? 'by the id asked for'}.`, options);
    case 'NoSuchKey':
      if (failure.deleteMarker) {
        return new AppError(
          'NoSuchKey',
          `${what} does not exist: its latest version is a delete marker (older versions are listed by ?versions=true).`,
          options,
        );
      }
      return new AppError('NoSuchKey', `${what} does not exist.`, options);
    case 'NoSuchBucket':
      return new AppError('NoSuchBucket', `The bucket of ${what} does not exist.`, options);
    case 'AccessDenied':
      return new AppError('AccessDenied', `OSS denied the service role access to ${what}.`, options);
    case 'PreconditionFailed':
      return new AppError('PreconditionFailed', `A precondition failed for ${what}.`, options);
    case 'InvalidRange':
      return new AppError('InvalidRange', `The range is outside ${what}.`, {
        ...options,
        headers: failure.objectSize === undefined ? {} : { 'Content-Range': `bytes */${failure.objectSize}` },
      });
    case 'InvalidAccessKeyId':
    case 'SecurityTokenExpired':
    case 'InvalidSecurityToken':
      return new AppError('CredentialsUnavailable', `OSS refused the service's credential (${code}).`, options);
    case 'RequestTimeTooSkewed':
      return new AppError(
        'UpstreamUnavailable',
        "OSS refused the request time (RequestTimeTooSkewed): this host's clock is more than 15 minutes off.",
        options,
      );
    case 'SignatureDoesNotMatch':
      return new AppError('UpstreamUnavailable', 'OSS refused the request signature (SignatureDoesNotMatch).', options);
  }
  if (failure.status >= 400 && failure.status < 500) {
    return new AppError('InvalidRequest', `OSS refused the request for ${what} (${code ?? failure.status}).`, options);
  }
  return new AppError('UpstreamUnavailable', `OSS answered ${failure.status}${code ? ` (${code})` : ''} for ${what}.`, options);
}

/** A request that got no answer at all: refused, reset, or timed out (undici's errors, oss-transport.ts). */
export function networkError(err: unknown, what: string): AppError {
  const code = (err as { code?: unknown }).code;
  const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
  return new AppError('UpstreamUnavailable', timedOut ? `OSS did not answer in time for ${what}.` : `OSS could not be reached for ${what}.`, {
    status: timedOut ? 504 : 502,
    cause: err,
  });
}

/**
 * 502, with the fix in the detail: the bucket is in another region than the
 * one this service addressed, so OSS_BUCKET_REGIONS must name its region.
 */
function wrongRegionError(failure: OssFailure, context: FailureContext): AppError {
  const region = failure.endpoint ? regionOfEndpoint(failure.endpoint) : undefined;
  const where = failure.endpoint ? `; OSS names its endpoint ${failure.endpoint}` : '';
  return new AppError(
    'UpstreamUnavailable',
    `OSS says bucket ${context.bucket} is not in region ${context.region}${where}. ` +
      `Map the bucket to its region in OSS_BUCKET_REGIONS (for example ${context.bucket}=${region ?? '<its region>'}).`,
    { status: 502, ossRequestId: failure.requestId },
  );
}

/** `oss-cn-shanghai.aliyuncs.com` or `oss-cn-shanghai-internal.aliyuncs.com` → `cn-shanghai`. */
export function regionOfEndpoint(endpoint: string): string | undefined {
  return /^(?:https?:\/\/)?oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$/.exec(endpoint)?.[1];
}
