import { AppError } from '../errors';
import type { ObjectVersionSummary, VersionPage } from './object-store';

/**
 * OSS's ListObjectVersions answer (`<ListVersionsResult>`) read into a page,
 * and the page's cursor. The document is flat enough for a few patterns: each
 * `<Version>` or `<DeleteMarker>` holds text fields only (and an `<Owner>`,
 * not read). Entries stay in OSS's order: by key, then newest first.
 *
 * The request asks for `encoding-type=url`, so Key and NextKeyMarker come
 * percent-encoded; the other fields are plain XML text.
 */
export function parseVersionListing(xml: string): VersionPage {
  const versions: ObjectVersionSummary[] = [];
  for (const match of xml.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)) {
    const [, kind, body] = match;
    const deleteMarker = kind === 'DeleteMarker';
    versions.push({
      key: decodeURIComponent(field(body, 'Key') ?? ''),
      versionId: field(body, 'VersionId') ?? 'null',
      isLatest: field(body, 'IsLatest') === 'true',
      size: deleteMarker ? 0 : Number(field(body, 'Size') ?? 0),
      etag: deleteMarker ? null : (field(body, 'ETag') ?? null),
      lastModified: field(body, 'LastModified') ?? '',
      deleteMarker,
    });
  }
  const truncated = field(xml, 'IsTruncated') === 'true';
  const nextKey = field(xml, 'NextKeyMarker');
  const nextVersion = field(xml, 'NextVersionIdMarker');
  const nextCursor =
    truncated && nextKey !== undefined ? encodeVersionCursor({ keyMarker: decodeURIComponent(nextKey), versionIdMarker: nextVersion ?? '' }) : null;
  return { versions, nextCursor };
}

export interface VersionMarker {
  keyMarker: string;
  versionIdMarker: string;
}

/** Opaque to callers: OSS needs two markers to go on, and a cursor is one string. */
export function encodeVersionCursor(marker: VersionMarker): string {
  return Buffer.from(JSON.stringify([marker.keyMarker, marker.versionIdMarker]), 'utf8').toString('base64url');
}

export function decodeVersionCursor(cursor: string): VersionMarker {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((v) => typeof v === 'string')) {
      return { keyMarker: parsed[0], versionIdMarker: parsed[1] };
    }
  } catch {
    // fall through: not a cursor this service made
  }
  throw new AppError('InvalidRequest', 'cursor: pass the nextCursor of the previous page of versions as it was.');
}

function field(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match === null ? undefined : decodeXmlText(match[1]);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) =>
    entity.startsWith('#x')
      ? String.fromCodePoint(parseInt(entity.slice(2), 16))
      : entity.startsWith('#')
        ? String.fromCodePoint(Number(entity.slice(1)))
        : ENTITIES[entity],
  );
}
