import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../src/clock';
import type { IssuedCredential, StsRegistry } from '../sts-registry';
import { OssError } from './error-xml';
import type { OssRequest } from './parse-request';
import { parseV1Authorization, v1Signature, v1StringToSign } from './signature-v1';
import { parseV4Authorization, parseV4Query, V4_ALGORITHM, v4CanonicalRequest, v4Signature, v4StringToSign } from './signature-v4';

/** `v1-url` and `v4-url`: a presigned URL, the signature in the query string instead of Authorization. */
export type SignatureVersion = 'v1' | 'v4' | 'v1-url' | 'v4-url' | 'anonymous';

/** The longest a V4 presigned URL may live (x-oss-expires), as OSS allows: 7 days. */
const MAX_V4_URL_EXPIRES_SECONDS = 604_800;

/** Who the request says it is, before anything is verified (for the request log). */
export interface ClaimedIdentity {
  signatureVersion: SignatureVersion;
  accessKeyId?: string;
  securityToken?: string;
}

export interface AuthDeps {
  sts: StsRegistry;
  clock: Clock;
  region: string;
  maxSkewMs: number;
}

/** A verified caller; `principal` is undefined for an anonymous request. */
export interface Caller extends ClaimedIdentity {
  principal?: string;
}

export function claimedIdentity(request: OssRequest): ClaimedIdentity {
  const authorization = request.headers.authorization;
  const securityToken = request.headers['x-oss-security-token'];
  if (authorization === undefined) return presignedIdentity(request);
  if (authorization.startsWith(`${V4_ALGORITHM} `)) {
    const accessKeyId = /Credential=([^/,\s]+)/.exec(authorization)?.[1];
    return { signatureVersion: 'v4', accessKeyId, securityToken };
  }
  return { signatureVersion: 'v1', accessKeyId: parseV1Authorization(authorization)?.accessKeyId, securityToken };
}

/**
 * Verifies a request the way OSS does, in OSS's order: the credential and its
 * STS token first (unknown key, wrong token, expired token), then the request
 * time, then the signature. Throws the OssError OSS would answer with.
 */
export function authenticate(request: OssRequest, deps: AuthDeps): Caller {
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    const kind = presignedKind(request);
    if (kind === 'v4-url') return verifyV4Url(request, deps);
    if (kind === 'v1-url') return verifyV1Url(request, deps);
    return { signatureVersion: 'anonymous' };
  }
  if (authorization.startsWith(`${V4_ALGORITHM} `)) return verifyV4(request, authorization, deps);
  if (authorization.startsWith('OSS ')) return verifyV1(request, authorization, deps);
  throw new OssError('InvalidArgument', { message: 'Authorization header is invalid.', ec: '0002-00000020' });
}

function verifyV1(request: OssRequest, authorization: string, deps: AuthDeps): Caller {
  const claimed = parseV1Authorization(authorization);
  if (claimed === undefined) {
    throw new OssError('InvalidArgument', { message: 'Authorization header is invalid.', ec: '0002-00000020' });
  }
  const credential = checkCredential(claimed.accessKeyId, request.headers['x-oss-security-token'], deps);
  checkSkew(parseHttpDate(request.headers['x-oss-date'] ?? request.headers.date), deps);
  const stringToSign = v1StringToSign(request);
  const expected = v1Signature(credential.accessKeySecret, stringToSign);
  if (!sameText(expected, claimed.signature)) {
    throw signatureMismatch(claimed.accessKeyId, claimed.signature, [['StringToSign', stringToSign]], '0002-00000040');
  }
  return caller('v1', credential);
}

function verifyV4(request: OssRequest, authorization: string, deps: AuthDeps): Caller {
  const claimed = parseV4Authorization(authorization);
  const credential = checkCredential(claimed.accessKeyId, request.headers['x-oss-security-token'], deps);
  const timestamp = request.headers['x-oss-date'] ?? '';
  checkSkew(parseIsoBasic(timestamp), deps);
  checkScope(claimed.date, claimed.region, claimed.product, timestamp, deps.region);
  if (request.headers['x-oss-content-sha256'] === undefined) {
    throw new OssError('InvalidArgument', { message: 'Missing required header x-oss-content-sha256.', ec: '0002-00000222' });
  }
  const canonicalRequest = v4CanonicalRequest(request, claimed.additionalHeaders);
  const stringToSign = v4StringToSign(timestamp, claimed, canonicalRequest);
  const expected = v4Signature(credential.accessKeySecret, claimed, stringToSign);
  if (!sameText(expected, claimed.signature)) {
    const details: Array<[string, string]> = [
      ['CanonicalRequest', canonicalRequest],
      ['StringToSign', stringToSign],
    ];
    throw signatureMismatch(claimed.accessKeyId, claimed.signature, details, '0002-00000228');
  }
  return caller('v4', credential);
}

function presignedKind(request: OssRequest): SignatureVersion {
  if (request.query['x-oss-signature-version'] !== undefined) return 'v4-url';
  if (request.query.OSSAccessKeyId !== undefined || request.query.Signature !== undefined) return 'v1-url';
  return 'anonymous';
}

function presignedIdentity(request: OssRequest): ClaimedIdentity {
  const signatureVersion = presignedKind(request);
  if (signatureVersion === 'v4-url') {
    const accessKeyId = /^([^/]+)\//.exec(request.query['x-oss-credential'] ?? '')?.[1];
    return { signatureVersion, accessKeyId, securityToken: request.query['x-oss-security-token'] };
  }
  if (signatureVersion === 'v1-url') {
    return { signatureVersion, accessKeyId: request.query.OSSAccessKeyId, securityToken: request.query['security-token'] };
  }
  return { signatureVersion };
}

/**
 * A V1 presigned URL: `?OSSAccessKeyId=&Expires=&Signature=` (and
 * `security-token` for STS), signed like a header-signed request with
 * `Expires` (epoch seconds) in the Date slot. Checked in the same order as a
 * signed request: the credential and its token, then the time, then the signature.
 */
function verifyV1Url(request: OssRequest, deps: AuthDeps): Caller {
  const { OSSAccessKeyId: accessKeyId, Expires: expires, Signature: signature } = request.query;
  if (!accessKeyId || !signature || !/^\d{1,12}$/.test(expires ?? '')) {
    throw new OssError('AccessDenied', { message: 'OSSAccessKeyId, Expires and Signature are required in a presigned URL.', ec: '0002-00000068' });
  }
  const credential = checkCredential(accessKeyId, request.query['security-token'], deps);
  checkUrlExpiry(Number(expires) * 1000, deps);
  const stringToSign = v1StringToSign(request, expires);
  const expected = v1Signature(credential.accessKeySecret, stringToSign);
  if (!sameText(expected, signature)) {
    throw signatureMismatch(accessKeyId, signature, [['StringToSign', stringToSign]], '0002-00000040');
  }
  return caller('v1-url', credential);
}

/**
 * A V4 presigned URL: `x-oss-signature-version`, `x-oss-credential`,
 * `x-oss-date`, `x-oss-expires` (seconds from x-oss-date, at most 7 days),
 * `x-oss-security-token` for STS, and `x-oss-signature` over a canonical
 * request whose query is every parameter but the signature itself.
 */
function verifyV4Url(request: OssRequest, deps: AuthDeps): Caller {
  if (request.query['x-oss-signature-version'] !== V4_ALGORITHM) {
    throw new OssError('InvalidArgument', { message: 'Unsupported x-oss-signature-version.', ec: '0002-00000225' });
  }
  const claimed = parseV4Query(request.query);
  const credential = checkCredential(claimed.accessKeyId, request.query['x-oss-security-token'], deps);
  const timestamp = request.query['x-oss-date'] ?? '';
  const signedAt = parseIsoBasic(timestamp);
  const expires = Number(request.query['x-oss-expires']);
  if (signedAt === undefined || !Number.isInteger(expires) || expires < 1 || expires > MAX_V4_URL_EXPIRES_SECONDS) {
    throw new OssError('InvalidArgument', { message: 'x-oss-date or x-oss-expires is invalid.', ec: '0002-00000226' });
  }
  checkScope(claimed.date, claimed.region, claimed.product, timestamp, deps.region);
  // A URL signed "in the future" is a clock problem, as for a signed request.
  if (signedAt - deps.clock.now() > deps.maxSkewMs) checkSkew(signedAt, deps);
  checkUrlExpiry(signedAt + expires * 1000, deps);
  const unsigned = { ...request, queryPairs: request.queryPairs.filter(([name]) => name !== 'x-oss-signature') };
  const canonicalRequest = v4CanonicalRequest(unsigned, claimed.additionalHeaders);
  const stringToSign = v4StringToSign(timestamp, claimed, canonicalRequest);
  const expected = v4Signature(credential.accessKeySecret, claimed, stringToSign);
  if (!sameText(expected, claimed.signature)) {
    const details: Array<[string, string]> = [
      ['CanonicalRequest', canonicalRequest],
      ['StringToSign', stringToSign],
    ];
    throw signatureMismatch(claimed.accessKeyId, claimed.signature, details, '0002-00000228');
  }
  return caller('v4-url', credential);
}

function checkUrlExpiry(expiresAt: number, deps: AuthDeps): void {
  const now = deps.clock.now();
  if (now > expiresAt) {
    throw new OssError('AccessDenied', {
      message: 'Request has expired.',
      ec: '0002-00000069',
      details: [
        ['Expires', new Date(expiresAt).toISOString()],
        ['ServerTime', new Date(now).toISOString()],
      ],
    });
  }
}

function caller(signatureVersion: SignatureVersion, credential: IssuedCredential): Caller {
  return {
    signatureVersion,
    accessKeyId: credential.accessKeyId,
    securityToken: credential.securityToken || undefined,
    principal: credential.principal,
  };
}

/**
 * A request with `x-oss-security-token` is an STS request: its key must be an
 * STS key and the token must be that key's own token. Without the header OSS
 * looks the key up among long-term AccessKeys, where an STS key does not
 * exist: a forgotten token reads as InvalidAccessKeyId.
 */
function checkCredential(accessKeyId: string, token: string | undefined, deps: AuthDeps): IssuedCredential {
  const credential = deps.sts.lookup(accessKeyId);
  const keyDetails: Array<[string, string]> = [['OSSAccessKeyId', accessKeyId]];
  if (token === undefined) {
    if (credential === undefined || credential.securityToken !== '') {
      throw new OssError('InvalidAccessKeyId', { ec: '0002-00000003', details: keyDetails });
    }
    return credential;
  }
  if (credential === undefined || credential.securityToken === '') {
    throw new OssError('InvalidAccessKeyId', { details: keyDetails });
  }
  if (credential.securityToken !== token) {
    const issuedToOtherKey = deps.sts.all().some((other) => other.securityToken === token);
    throw new OssError('InvalidSecurityToken', { ec: issuedToOtherKey ? '0002-00000004' : '0002-00000006' });
  }
  if (deps.sts.isExpired(credential)) throw new OssError('SecurityTokenExpired');
  return credential;
}

function checkSkew(requestTime: number | undefined, deps: AuthDeps): void {
  if (requestTime === undefined) {
    throw new OssError('AccessDenied', { message: 'OSS authentication requires a valid Date.', ec: '0002-00000505' });
  }
  const now = deps.clock.now();
  if (Math.abs(now - requestTime) > deps.maxSkewMs) {
    throw new OssError('RequestTimeTooSkewed', {
      details: [
        ['RequestTime', new Date(requestTime).toUTCString()],
        ['ServerTime', new Date(now).toUTCString()],
        ['MaxAllowedSkewMilliseconds', deps.maxSkewMs],
      ],
    });
  }
}

function checkScope(date: string, region: string, product: string, timestamp: string, serverRegion: string): void {
  if (date !== timestamp.slice(0, 8)) {
    throw new OssError('InvalidArgument', { message: 'Invalid signing date in Authorization header.', ec: '0002-00000210' });
  }
  if (region !== serverRegion) {
    throw new OssError('InvalidArgument', { message: 'Invalid signing region in Authorization header.', ec: '0002-00000211' });
  }
  if (product !== 'oss') {
    throw new OssError('InvalidArgument', { message: 'Invalid signing product in Authorization header.', ec: '0002-00000212' });
  }
}

function signatureMismatch(accessKeyId: string, provided: string, details: Array<[string, string]>, ec: string): OssError {
  return new OssError('SignatureDoesNotMatch', {
    ec,
    details: [['OSSAccessKeyId', accessKeyId], ['SignatureProvided', provided], ...details],
  });
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `20261127T205157Z`, the x-oss-date of V4. */
function parseIsoBasic(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}
