/**
 * Conditional GET/HEAD in RFC 7232 section 6 order: If-Match, else
 * If-Unmodified-Since (412 when they fail); then If-None-Match, else
 * If-Modified-Since (304 when they fail). If-Range decides separately whether
 * a Range header still applies.
 */
export type ConditionOutcome =
  { kind: 'proceed' } | { kind: 'not-modified' } | { kind: 'precondition-failed'; condition: 'If-Match' | 'If-Unmodified-Since' };

export interface Validators {
  /** Unquoted upper-case hex. */
  etag: string;
  /** Epoch ms, whole seconds. */
  lastModified: number;
}

export function evaluateConditions(headers: Record<string, string>, validators: Validators): ConditionOutcome {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, validators.etag, 'strong')) return { kind: 'precondition-failed', condition: 'If-Match' };
  } else {
    const since = parseDate(headers['if-unmodified-since']);
    if (since !== undefined && validators.lastModified > since) {
      return { kind: 'precondition-failed', condition: 'If-Unmodified-Since' };
    }
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, validators.etag, 'weak')) return { kind: 'not-modified' };
  } else {
    const since = parseDate(headers['if-modified-since']);
    if (since !== undefined && validators.lastModified <= since) return { kind: 'not-modified' };
  }
  return { kind: 'proceed' };
}

/** If-Range: the Range applies only when the validator still names this representation. */
export function rangeStillApplies(headers: Record<string, string>, validators: Validators): boolean {
  const ifRange = headers['if-range'];
  if (ifRange === undefined) return true;
  const trimmed = ifRange.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return etagListMatches(trimmed, validators.etag, 'strong');
  const date = parseDate(trimmed);
  return date !== undefined && date === validators.lastModified;
}

function etagListMatches(list: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  return list.split(',').some((item) => {
    const candidate = item.trim();
    if (candidate === '*') return true;
    const weak = candidate.startsWith('W/');
    if (weak && comparison === 'strong') return false;
    return unquote(weak ? candidate.slice(2) : candidate) === etag;
  });
}

/** OSS clients pass ETags quoted (as OSS sends them) or bare; accept both. */
function unquote(tag: string): string {
  return tag.startsWith('"') && tag.endsWith('"') && tag.length >= 2 ? tag.slice(1, -1) : tag;
}

function parseDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
