import { AppError } from '../errors';

/**
 * The caller's Range header, read as RFC 9110 section 14.2 says. OSS does one
 * range per request, so only a single, well-formed byte range is forwarded;
 * anything else is ignored and the whole object is sent, which is what HTTP
 * allows a server to do with a Range it will not serve.
 */
export type RangeRequest =
  | { kind: 'none' }
  | { kind: 'single'; header: string }
  /** Several ranges: OSS would ignore them too; answer with the whole object. */
  | { kind: 'multiple' }
  /** Not a byte range we can read (other unit, bad syntax, last < first): ignored. */
  | { kind: 'invalid' };

const SINGLE = /^bytes=(?:(\d{1,19})-(\d{0,19})|-(\d{1,19}))$/;

export function parseRange(header: string | undefined): RangeRequest {
  if (header === undefined) return { kind: 'none' };
  // The unit is case-insensitive (RFC 9110 section 14.1).
  const value = header
    .trim()
    .replace(/\s*([=,-])\s*/g, '$1')
    .replace(/^bytes=/i, 'bytes=');
  if (/^bytes=.*,/.test(value)) return { kind: 'multiple' };
  const match = SINGLE.exec(value);
  if (!match) return { kind: 'invalid' };
  const [, first, last, suffix] = match;
  if (suffix !== undefined) {
    // bytes=-0 asks for nothing: unsatisfiable, but let OSS say so with its 416.
    return { kind: 'single', header: `bytes=-${BigInt(suffix)}` };
  }
  if (last !== '' && BigInt(last) < BigInt(first)) return { kind: 'invalid' };
  return { kind: 'single', header: `bytes=${BigInt(first)}-${last === '' ? '' : BigInt(last)}` };
}

/**
 * What to forward to OSS for a Range header, for the routes:
 * - none, another unit (`items=0-5`: RFC 9110 says ignore it) or several ranges
 *   (OSS serves one; the contract answers with the whole object): no range;
 * - one well-formed byte range: that range;
 * - a `bytes=` value that is not one well-formed range (`bytes=abc`, `bytes=9-3`,
 *   `bytes=-`, a number of more than 19 digits) or longer than 200 characters:
 *   416 InvalidRange at once, with no OSS request (RFC 9110 section 15.5.17
 *   allows 416 for a range set rejected as invalid). No Content-Range is sent:
 *   the size is not known without asking OSS.
 */
export function forwardedRange(header: string | undefined): string | undefined {
  const range = parseRange(header);
  if (range.kind === 'single') return range.header;
  const bytesUnit = header !== undefined && /^\s*bytes\s*=/i.test(header);
  if (range.kind === 'invalid' && bytesUnit) throw malformed();
  if (range.kind === 'multiple' && header!.length > MAX_RANGE_HEADER) throw malformed();
  return undefined;
}

const MAX_RANGE_HEADER = 200;

function malformed(): AppError {
  return new AppError('InvalidRange', 'The Range header is not one well-formed byte range (bytes=first-last, first- or -suffix).');
}
