/**
 * If-Range (RFC 9110 section 13.1.5): send the range only if the object is
 * still the one the caller has part of; otherwise send all of it. OSS's
 * handling of If-Range is not documented, so the service decides itself from
 * the validator on OSS's answer.
 */
export function ifRangeMatches(ifRange: string, headers: Readonly<Record<string, string>>): boolean {
  const value = ifRange.trim();
  if (value.startsWith('W/')) return false; // a weak tag never matches (strong comparison)
  if (value.startsWith('"')) return headers.etag !== undefined && headers.etag === value;
  const date = Date.parse(value);
  const lastModified = Date.parse(headers['last-modified'] ?? '');
  // A date matches only an exactly equal Last-Modified.
  return !Number.isNaN(date) && date === lastModified;
}
