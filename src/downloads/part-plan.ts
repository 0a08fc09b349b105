/**
 * How an object is cut into ranged GETs. Below the threshold it is one part
 * (one stream); above it, parts of `partSize` bytes fetched in parallel. The
 * plan depends only on (size, partSize, threshold), so a checkpoint that
 * recorded it can be matched against a new run.
 */
export interface Part {
  index: number;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** Parts of one object at most: a huge object gets larger parts rather than millions of requests. */
export const MAX_PARTS = 10_000;

export function planParts(size: number, partSize: number, thresholdBytes: number): Part[] {
  if (size === 0) return [];
  const step = size <= thresholdBytes ? size : Math.max(partSize, Math.ceil(size / MAX_PARTS));
  const parts: Part[] = [];
  for (let start = 0, index = 0; start < size; start += step, index++) {
    parts.push({ index, start, end: Math.min(start + step, size) - 1 });
  }
  return parts;
}

export function partLength(part: Part): number {
  return part.end - part.start + 1;
}
