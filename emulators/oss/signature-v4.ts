import { createHash, createHmac } from 'node:crypto';
import { OssError } from './error-xml';
import { headerText } from './header-text';
import type { OssRequest } from './parse-request';

/**
 * OSS signature V4 (OSS4-HMAC-SHA256):
 *
 *   Authorization: OSS4-HMAC-SHA256 Credential={ak}/{yyyymmdd}/{region}/oss/aliyun_v4_request,
 *                  [AdditionalHeaders={h1;h2},]Signature={hex}
 *
 * Canonical request = VERB \n URI \n query \n headers \n additional \n payload hash,
 * with the URI `/{bucket}/{key}` RFC 3986-encoded (slashes kept), every query
 * parameter signed (`k=v`, or `k` alone when empty, sorted), and the headers
 * `x-oss-*`, `content-type`, `content-md5` plus the additional ones, each
 * `name:value\n`. The payload hash is `x-oss-content-sha256`
 * (`UNSIGNED-PAYLOAD` from the SDKs). The signing key is derived from
 * "aliyun_v4" + secret through date, region, product and "aliyun_v4_request".
 */
export const V4_ALGORITHM = 'OSS4-HMAC-SHA256';

export interface V4Credentials {
  accessKeyId: string;
  /** yyyymmdd from the credential scope. */
  date: string;
  region: string;
  product: string;
  additionalHeaders: string[];
  signature: string;
}

export function parseV4Authorization(header: string): V4Credentials {
  const fields = parseFields(header.trim().slice(V4_ALGORITHM.length));
  const credential = fields.get('Credential');
  const signature = fields.get('Signature');
  if (credential === undefined || signature === undefined) {
    throw malformed('Credential and Signature are required in the Authorization header.');
  }
  return {
    ...parseV4Scope(credential, 'Authorization header'),
    additionalHeaders: parseAdditionalHeaders(fields.get('AdditionalHeaders'), 'Authorization header'),
    signature,
  };
}

/**
 * A presigned URL carries the same fields in its query: `x-oss-credential`,
 * `x-oss-additional-headers`, `x-oss-signature` (with `x-oss-date`,
 * `x-oss-expires` and `x-oss-signature-version` beside them).
 */
export function parseV4Query(query: Record<string, string>): V4Credentials {
  const credential = query['x-oss-credential'];
  const signature = query['x-oss-signature'];
  if (credential === undefined || signature === undefined) {
    throw malformed('x-oss-credential and x-oss-signature are required in a presigned URL.');
  }
  return {
    ...parseV4Scope(credential, 'x-oss-credential'),
    additionalHeaders: parseAdditionalHeaders(query['x-oss-additional-headers'], 'x-oss-additional-headers'),
    signature,
  };
}

/** `{ak}/{yyyymmdd}/{region}/{product}/aliyun_v4_request` */
function parseV4Scope(credential: string, where: string): Omit<V4Credentials, 'additionalHeaders' | 'signature'> {
  const [accessKeyId, date, region, product, terminator, ...extra] = credential.split('/');
  if (!accessKeyId || !/^\d{8}$/.test(date ?? '') || !region || !product || terminator !== 'aliyun_v4_request' || extra.length > 0) {
    throw malformed(`Invalid credential in ${where}.`);
  }
  return { accessKeyId, date, region, product };
}

function parseAdditionalHeaders(value: string | undefined, where: string): string[] {
  const additionalHeaders = value === undefined ? [] : value.split(';').map((name) => name.trim().toLowerCase());
  if (additionalHeaders.some((name) => name === '')) throw malformed(`Invalid AdditionalHeaders in ${where}.`);
  return additionalHeaders;
}

function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq === -1 || !['Credential', 'AdditionalHeaders', 'Signature'].includes(name)) {
      throw malformed('Invalid field in Authorization header.');
    }
    fields.set(name, part.slice(eq + 1).trim());
  }
  return fields;
}

function malformed(message: string): OssError {
  return new OssError('InvalidArgument', { message, ec: '0002-00000204' });
}

export function v4CanonicalRequest(request: OssRequest, additionalHeaders: string[]): string {
  const objectPath = request.bucket === '' ? '/' : `/${request.bucket}/${request.key}`;
  return [
    request.method.toUpperCase(),
    uriEncode(objectPath).replace(/%2F/g, '/'),
    canonicalQuery(request.queryPairs),
    canonicalHeaders(request.headers, additionalHeaders),
    additionalHeaders.join(';'),
    request.headers['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
}

export function v4StringToSign(timestamp: string, credentials: V4Credentials, canonicalRequest: string): string {
  const scope = `${credentials.date}/${credentials.region}/${credentials.product}/aliyun_v4_request`;
  const hash = createHash('sha256').update(canonicalRequest, 'utf8').digest('hex');
  return [V4_ALGORITHM, timestamp, scope, hash].join('\n');
}

export function v4Signature(accessKeySecret: string, credentials: V4Credentials, stringToSign: string): string {
  let key: Buffer = Buffer.from(`aliyun_v4${accessKeySecret}`, 'utf8');
  for (const part of [credentials.date, credentials.region, credentials.product, 'aliyun_v4_request']) {
    key = createHmac('sha256', key).update(part, 'utf8').digest();
  }
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a !== b ? (a < b ? -1 : 1) : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`))
    .join('&');
}

function canonicalHeaders(headers: Record<string, string>, additionalHeaders: string[]): string {
  const additional = new Set(additionalHeaders);
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-') || name === 'content-type' || name === 'content-md5' || additional.has(name))
    .filter((name) => headers[name] !== '')
    .sort()
    .map((name) => `${name}:${headerText(headers[name]).trim()}\n`)
    .join('');
}
