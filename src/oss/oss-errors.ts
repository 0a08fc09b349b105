import { AppError } from '../errors';

/**
 * OSS's error answers, turned into this project's errors. OSS speaks XML
 * (`<Error><Code/><Message/><RequestId/>...</Error>`); only the Code is used:
 * the Message is never passed to a caller.
 */

/** Codes that mean "the credential you signed with is no good": refresh it and retry once. */
export const CREDENTIAL_REJECTED_CODES: ReadonlySet<string> = new Set([
  'InvalidAccessKeyId',
  'SecurityTokenExpired',
  'InvalidSecurityToken',
]);

export interface OssFailure {
  status: number;
  /** OSS's error Code, when the answer carried one. */
  code?: string;
  requestId?: string;
  /** The object size, from `Content-Range: bytes *\/size` on a 416. */
  objectSize?: number;
}

/** Read the Code out of an OSS error document (no XML parser needed for two fields). */
export function parseErrorXml(xml: string): { code?: string; requestId?: string } {
  return { code: xmlField(xml, 'Code'), requestId: xmlField(xml, 'RequestId') };
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

export function toAppError(failure: OssFailure, what: string): AppError {
  const code = failure.code ?? codeFromStatus(failure.status);
  const options = { ossRequestId: failure.requestId };
  switch (code) {
    case 'NoSuchKey':
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

/** A request that got no answer at all: refused, reset, or timed out. */
export function networkError(err: unknown, what: string): AppError {
  const e = err as { name?: string; code?: string; status?: number };
  const timedOut = e.status === -2 || /Timeout/i.test(e.name ?? '');
  return new AppError(
    'UpstreamUnavailable',
    timedOut ? `OSS did not answer in time for ${what}.` : `OSS could not be reached for ${what}.`,
    { status: timedOut ? 504 : 502, cause: err },
  );
}
