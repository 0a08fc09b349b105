/** Median and spread of repeated runs: every figure in RESULTS.md is one of these. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs };
}

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** "412 (398–420)": the median and the spread. */
export function fmt(s: Summary, digits = 1): string {
  const f = (n: number) => n.toFixed(digits);
  return s.runs.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
}
