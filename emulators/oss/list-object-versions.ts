import { OssError } from './error-xml';
import { compareUtf8 } from './list-objects';
import type { Bucket, VersionEntry } from './object-store-memory';
import { renderXml, type XmlNode } from './xml';

/**
 * ListObjectVersions (`GET /?versions`): every version and delete marker of
 * the keys under `prefix`, by key in UTF-8 byte order, then newest first.
 * `max-keys` counts entries; a page goes on from `key-marker` (after every
 * version of that key) or from `key-marker` + `version-id-marker` (after that
 * version). A key written before versioning was on lists as version `null`.
 * `delimiter` is not emulated (the service never sends it): it is refused.
 */
export function listObjectVersions(bucket: Bucket, query: Record<string, string>): string {
  const prefix = query.prefix ?? '';
  const keyMarker = query['key-marker'] ?? '';
  const versionIdMarker = query['version-id-marker'] ?? '';
  const maxKeys = parseMaxKeys(query['max-keys']);
  const urlEncoded = query['encoding-type'] === 'url';
  if (query['encoding-type'] !== undefined && !urlEncoded) throw invalidArgument('encoding-type', query['encoding-type']);
  if (query.delimiter !== undefined) throw invalidArgument('delimiter', query.delimiter);
  if (versionIdMarker !== '' && keyMarker === '') throw invalidArgument('version-id-marker', versionIdMarker);
  const encode = (text: string) => (urlEncoded ? encodeURIComponent(text) : text);

  const page: Array<{ key: string; entry: VersionEntry; isLatest: boolean }> = [];
  let truncated = false;
  for (const key of keysOf(bucket, prefix)) {
    const order = compareUtf8(key, keyMarker);
    if (order < 0 || (order === 0 && versionIdMarker === '')) continue;
    let entries = versionsOf(bucket, key).map((entry, index) => ({ key, entry, isLatest: index === 0 }));
    if (order === 0) {
      const at = entries.findIndex((e) => e.entry.versionId === versionIdMarker);
      entries = at === -1 ? [] : entries.slice(at + 1);
    }
    for (const item of entries) {
      if (page.length === maxKeys) {
        truncated = true;
        break;
      }
      page.push(item);
    }
    if (truncated) break;
  }

  const children: XmlNode[] = [
    ['Name', bucket.name],
    ['Prefix', encode(prefix)],
    ['KeyMarker', encode(keyMarker)],
    ['VersionIdMarker', versionIdMarker],
    ['MaxKeys', maxKeys],
    ['Delimiter', ''],
  ];
  if (urlEncoded) children.push(['EncodingType', 'url']);
  children.push(['IsTruncated', truncated]);
  const last = page.at(-1);
  if (truncated && last) children.push(['NextKeyMarker', encode(last.key)], ['NextVersionIdMarker', last.entry.versionId]);
  const owner: XmlNode = [
    'Owner',
    [
      ['ID', bucket.ownerId],
      ['DisplayName', bucket.ownerId],
    ],
  ];
  for (const { key, entry, isLatest } of page) {
    const common: XmlNode[] = [
      ['Key', encode(key)],
      ['VersionId', entry.versionId],
      ['IsLatest', isLatest],
      ['LastModified', new Date(entry.lastModified).toISOString()],
    ];
    if (entry.object === undefined) {
      children.push(['DeleteMarker', [...common, owner]]);
    } else {
      const o = entry.object;
      children.push(['Version', [...common, ['ETag', `"${o.etag}"`], ['Type', 'Normal'], ['Size', o.size], ['StorageClass', o.storageClass], owner]]);
    }
  }
  return renderXml('ListVersionsResult', children);
}

/** Every key with a version or a current object, under `prefix`, in OSS's order. */
function keysOf(bucket: Bucket, prefix: string): string[] {
  const keys = new Set([...bucket.history.keys(), ...bucket.objects.keys()]);
  return [...keys].filter((key) => key.startsWith(prefix)).sort(compareUtf8);
}

function versionsOf(bucket: Bucket, key: string): VersionEntry[] {
  const history = bucket.history.get(key);
  if (history !== undefined) return history;
  const object = bucket.objects.get(key)!;
  return [{ versionId: 'null', lastModified: object.lastModified, object }];
}

function parseMaxKeys(value: string | undefined): number {
  if (value === undefined) return 1000;
  const maxKeys = Number(value);
  if (!/^\d+$/.test(value) || maxKeys < 1 || maxKeys > 1000) throw invalidArgument('max-keys', value);
  return maxKeys;
}

function invalidArgument(name: string, value: string): OssError {
  return new OssError('InvalidArgument', {
    message: `Argument ${name} is invalid.`,
    details: [
      ['ArgumentName', name],
      ['ArgumentValue', value],
    ],
  });
}
