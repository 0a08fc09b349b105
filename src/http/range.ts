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
  const value = header.trim().replace(/\s*([=,-])\s*/g, '$1');
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
