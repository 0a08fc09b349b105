import { create as contentDisposition } from 'content-disposition';

/**
 * The response headers a caller gets for an object: exactly the ones the HTTP
 * contract names, from OSS's answer. Other x-oss-* headers (request ids,
 * server time, object type, storage class) are OSS internals and are dropped.
 */
const PASSED_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'content-encoding',
  'content-language',
  'content-disposition',
  'expires',
  'x-oss-hash-crc64ecma',
  // The version served (a versioned bucket): lets a caller pin later requests to it with ?versionId=.
  'x-oss-version-id',
] as const;

export function passedHeaders(upstream: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = upstream[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** `?download=1` or `?filename=NAME`: save as a file, named by RFC 6266 with RFC 5987 for non-ASCII names. */
export function attachmentHeader(key: string, filename: string | undefined): string {
  const name = filename ?? baseName(key);
  const ascii = /^[\x20-\x7e]*$/.test(name);
  return contentDisposition(name, { type: 'attachment', fallback: ascii ? true : asciiFallback(name) });
}

/**
 * The plain `filename=` for clients that ignore `filename*`: what ASCII cannot
 * carry becomes `_` (the package's own fallback writes `?`, and `curl -OJ`
 * saved files literally named `??? ????.txt`).
 */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_');
}

function baseName(key: string): string {
  const parts = key.split('/').filter((p) => p !== '');
  return parts.at(-1) ?? 'download';
}
