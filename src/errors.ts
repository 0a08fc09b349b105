/**
 * The one table of error codes this service answers with. Each code has a
 * fixed HTTP status and title; `code` is the stable, machine-readable part of
 * every problem+json body (RFC 9457). `detail` is always written here, in this
 * project's words: an SDK or OSS message is never passed to a caller.
 */

export const ERRORS = {
  InvalidRequest: { status: 400, title: 'The request is not valid' },
  Unauthorized: { status: 401, title: 'Authentication is required' },
  AccessDenied: { status: 403, title: 'OSS refused the service role access to this resource' },
  NotAllowed: { status: 403, title: "This service's policy does not allow this resource" },
  NoSuchKey: { status: 404, title: 'The object does not exist' },
  NoSuchBucket: { status: 404, title: 'The bucket does not exist' },
  NoSuchVersion: { status: 404, title: 'The object has no such version' },
  DeleteMarker: { status: 404, title: 'The version is a delete marker' },
  NotFound: { status: 404, title: 'No such endpoint' },
  MethodNotAllowed: { status: 405, title: 'Method not allowed on this endpoint' },
  Conflict: { status: 409, title: 'The request conflicts with the current state of the target' },
  ObjectChanged: { status: 409, title: 'The object changed in OSS during the download' },
  PreconditionFailed: { status: 412, title: 'A precondition in the request failed' },
  InvalidRange: { status: 416, title: 'The requested range cannot be satisfied' },
  ChecksumMismatch: { status: 502, title: 'The downloaded bytes do not match the CRC64 OSS reported' },
  InsufficientStorage: { status: 507, title: 'Not enough free disk space for the download' },
  DownloadCanceled: { status: 409, title: 'The download was canceled' },
  IncompleteDownload: { status: 502, title: 'Some files of the prefix could not be downloaded' },
  TooManyRequests: { status: 429, title: 'Too many concurrent requests for this caller' },
  InternalError: { status: 500, title: 'Internal error' },
  UpstreamUnavailable: { status: 502, title: 'OSS is unavailable or answered badly' },
  CredentialsUnavailable: { status: 503, title: 'No valid credential for OSS is available' },
  NotReady: { status: 503, title: 'The service is not ready' },
  Overloaded: { status: 503, title: 'The service is at its limit of concurrent streams' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface AppErrorOptions {
  /** Override the table's status where the code allows two (UpstreamUnavailable: 502 or 504). */
  status?: number;
  /** Extra response headers, e.g. Content-Range on 416 or Allow on 405. */
  headers?: Record<string, string>;
  /** The OSS request id, for the log line and for support tickets. */
  ossRequestId?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly ossRequestId?: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status ?? ERRORS[code].status;
    this.headers = options.headers ?? {};
    this.ossRequestId = options.ossRequestId;
  }

  get title(): string {
    return ERRORS[this.code].title;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
