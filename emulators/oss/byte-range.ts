/**
 * How OSS reads a `Range` header. OSS serves one range only. By default it is
 * lenient the old way: any range it cannot serve exactly (start or end past
 * the object, a suffix longer than the object, a bad unit, several ranges) is
 * ignored and the whole object comes back with 200. With
 * `x-oss-range-behavior: standard` it follows RFC 7233: an end past the object
 * is clamped, a suffix longer than the object means all of it, and a start
 * past the end is 416 InvalidRange.
 */
export type RangeDecision = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const FULL: RangeDecision = { kind: 'full' };
const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

export function resolveRange(header: string | undefined, size: number, standard: boolean): RangeDecision {
  if (header === undefined) return FULL;
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return FULL;
  const outOfRange: RangeDecision = standard ? { kind: 'unsatisfiable' } : FULL;
  if (size === 0) return outOfRange;
  if (match[1] === '') return suffixRange(Number(match[2]), size, standard, outOfRange);
  const start = Number(match[1]);
  if (match[2] !== '' && Number(match[2]) < start) return FULL; // syntactically invalid: RFC 7233 says ignore the header
  if (start >= size) return outOfRange;
  const end = match[2] === '' ? size - 1 : Number(match[2]);
  if (end >= size) return standard ? { kind: 'partial', start, end: size - 1 } : FULL;
  return { kind: 'partial', start, end };
}

function suffixRange(length: number, size: number, standard: boolean, outOfRange: RangeDecision): RangeDecision {
  if (length === 0) return outOfRange;
  if (length > size) return standard ? { kind: 'partial', start: 0, end: size - 1 } : FULL;
  return { kind: 'partial', start: size - length, end: size - 1 };
}
