import { renderXml, type XmlNode } from './xml';

/**
 * OSS errors as real OSS writes them: an XML body
 * `<Error><Code/><Message/><RequestId/><HostId/>...<EC/></Error>` plus the
 * `x-oss-ec` header. Messages are OSS's own wording. EC values marked
 * "documented" appear in Alibaba Cloud's EC pages or in real error dumps; the
 * rest only need to look like an EC, nothing parses them.
 */
export type OssErrorCode =
  | 'AccessDenied'
  | 'InternalError'
  | 'InvalidAccessKeyId'
  | 'InvalidArgument'
  | 'InvalidBucketName'
  | 'InvalidRange'
  | 'InvalidSecurityToken'
  | 'InvalidURI'
  | 'MethodNotAllowed'
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'NoSuchVersion'
  | 'PermanentRedirect'
  | 'PreconditionFailed'
  | 'RequestTimeTooSkewed'
  | 'SecurityTokenExpired'
  | 'ServiceUnavailable'
  | 'SignatureDoesNotMatch';

interface ErrorSpec {
  status: number;
  message: string;
  ec: string;
}

const ERRORS: Record<OssErrorCode, ErrorSpec> = {
  AccessDenied: { status: 403, message: 'You have no right to access this object because of bucket acl.', ec: '0003-00000001' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.', ec: '0000-00000001' },
  // documented: 0002-00000002 (an STS AccessKeyId OSS does not know)
  InvalidAccessKeyId: { status: 403, message: 'The OSS Access Key Id you provided does not exist in our records.', ec: '0002-00000002' },
  InvalidArgument: { status: 400, message: 'Invalid argument.', ec: '0017-00000000' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.', ec: '0015-00000001' },
  InvalidRange: { status: 416, message: 'The requested range cannot be satisfied', ec: '0026-00000003' },
  // documented: 0002-00000006
  InvalidSecurityToken: { status: 403, message: 'The security token you provided is invalid.', ec: '0002-00000006' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI.", ec: '0001-00000001' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.', ec: '0001-00000405' },
  // documented: 0015-00000101
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist.', ec: '0015-00000101' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.', ec: '0026-00000001' },
  // A versionId the key never had.
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.', ec: '0026-00000008' },
  // A bucket addressed at another region's endpoint, as older OSS answers and some gateways put it (today's OSS: AccessDenied with <Endpoint>).
  PermanentRedirect: {
    status: 301,
    message:
      'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
    ec: '0003-00001403',
  },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold.', ec: '0026-00000007' },
  // documented: 0002-00000504
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the current time is too large.', ec: '0002-00000504' },
  // documented: 0002-00000007
  SecurityTokenExpired: { status: 403, message: 'The security token you provided has expired.', ec: '0002-00000007' },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.', ec: '0000-00000503' },
  // documented for V1: 0002-00000040
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ec: '0002-00000040',
  },
};

export class OssError extends Error {
  readonly status: number;
  readonly ec: string;
  /** Extra elements real OSS adds for this error (BucketName, Key, StringToSign, ...). */
  readonly details: XmlNode[];
  /** Extra response headers (Content-Range on a 416). */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: OssErrorCode,
    options: { message?: string; ec?: string; status?: number; details?: XmlNode[]; headers?: Record<string, string> } = {},
  ) {
    const spec = ERRORS[code];
    super(options.message ?? spec.message);
    this.status = options.status ?? spec.status;
    this.ec = options.ec ?? spec.ec;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }
}

export function renderErrorXml(error: OssError, requestId: string, hostId: string): string {
  return renderXml('Error', [
    ['Code', error.code],
    ['Message', error.message],
    ['RequestId', requestId],
    ['HostId', hostId],
    ...error.details,
    ['EC', error.ec],
  ]);
}
