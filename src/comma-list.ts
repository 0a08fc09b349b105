/** The non-empty, trimmed items of a comma-separated variable (OSS_ALLOW, ALLOW_CIDRS). */
export function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
