import { resolveRange } from './byte-range';
import { evaluateConditions, rangeStillApplies, type Validators } from './conditionals';
import { OssError } from './error-xml';
import type { StoredObject } from './object-store-memory';
import type { OssRequest } from './parse-request';

/** What GetObject/HeadObject answers, before any byte is sent. */
export interface ObjectResponse {
  status: 200 | 206 | 304;
  headers: Record<string, string>;
  /** Inclusive byte span of the body; absent for 304. HEAD sends headers only. */
  span?: { start: number; end: number };
}

/**
 * Preconditions first (RFC 7232: 412 and 304 win over any Range), then the
 * range as OSS reads it. Throws the OssError for 412 and 416.
 */
export function planObjectResponse(request: OssRequest, object: StoredObject): ObjectResponse {
  const validators: Validators = { etag: object.etag, lastModified: object.lastModified };
  const outcome = evaluateConditions(request.headers, validators);
  if (outcome.kind === 'precondition-failed') {
    throw new OssError('PreconditionFailed', { details: [['Condition', outcome.condition]] });
  }
  if (outcome.kind === 'not-modified') return { status: 304, headers: validatorHeaders(object) };
  const standard = request.headers['x-oss-range-behavior']?.toLowerCase() === 'standard';
  // Range is a GET feature (RFC 7233): HEAD describes the whole object.
  const rangeApplies = request.method === 'GET' && rangeStillApplies(request.headers, validators);
  const rangeHeader = rangeApplies ? request.headers.range : undefined;
  const range = resolveRange(rangeHeader, object.size, standard);
  if (range.kind === 'unsatisfiable') {
    throw new OssError('InvalidRange', {
      headers: { 'Content-Range': `bytes */${object.size}` },
      details: [
        ['RangeRequested', request.headers.range ?? ''],
        ['ActualObjectSize', object.size],
      ],
    });
  }
  if (range.kind === 'full') {
    const headers: Record<string, string> = { ...entityHeaders(object, request), 'Content-Length': String(object.size) };
    if (object.contentMd5) headers['Content-MD5'] = object.contentMd5;
    return { status: 200, headers, span: { start: 0, end: object.size - 1 } };
  }
  const headers = {
    ...entityHeaders(object, request),
    'Content-Length': String(range.end - range.start + 1),
    'Content-Range': `bytes ${range.start}-${range.end}/${object.size}`,
  };
  return { status: 206, headers, span: { start: range.start, end: range.end } };
}

function validatorHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    ETag: `"${object.etag}"`,
    'Last-Modified': new Date(object.lastModified).toUTCString(),
  };
  if (object.cacheControl !== undefined) headers['Cache-Control'] = object.cacheControl;
  if (object.expires !== undefined) headers.Expires = object.expires;
  return headers;
}

/** The object's own headers; x-oss-hash-crc64ecma is always the whole object's, on 206 too. */
function entityHeaders(object: StoredObject, request: OssRequest): Record<string, string> {
  const headers: Record<string, string> = {
    ...validatorHeaders(object),
    'Content-Type': object.contentType,
    'Accept-Ranges': 'bytes',
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': object.storageClass,
    'x-oss-hash-crc64ecma': object.crc64.toString(),
  };
  if (object.contentEncoding !== undefined) headers['Content-Encoding'] = object.contentEncoding;
  if (object.contentLanguage !== undefined) headers['Content-Language'] = object.contentLanguage;
  if (object.contentDisposition !== undefined) headers['Content-Disposition'] = object.contentDisposition;
  return { ...headers, ...responseOverrides(request) };
}

/** GetObject's `response-content-type=...` style parameters replace the stored headers. */
function responseOverrides(request: OssRequest): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [parameter, header] of RESPONSE_OVERRIDES) {
    const value = request.query[parameter];
    if (value !== undefined) overrides[header] = value;
  }
  return overrides;
}

const RESPONSE_OVERRIDES: Array<[string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];
