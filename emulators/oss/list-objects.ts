import { OssError } from './error-xml';
import type { Bucket, StoredObject } from './object-store-memory';
import { renderXml, type XmlNode } from './xml';

/**
 * ListObjectsV2 (`GET /?list-type=2`) and the older ListObjects (`GET /`).
 * Keys come back in UTF-8 byte order; `max-keys` counts keys and common
 * prefixes together; a common prefix already returned is never returned again
 * on a later page. V2's continuation token is opaque to clients: here it is
 * the last name returned, base64url-encoded.
 */
interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** Exclusive lower bound: marker, start-after or the decoded token. */
  after: string;
  urlEncoded: boolean;
}

interface ListPage {
  contents: StoredObject[];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix on this page. */
  last: string;
}

export function listObjectsV2(bucket: Bucket, query: Record<string, string>): string {
  const token = query['continuation-token'];
  const startAfter = query['start-after'] ?? '';
  const params = listParams(query, token === undefined ? startAfter : decodeToken(token));
  const page = listPage(bucket, params);
  const showOwner = query['fetch-owner'] === 'true';
  const children: XmlNode[] = [
    ['Name', bucket.name],
    ['Prefix', encode(params.prefix, params)],
  ];
  if (query['start-after'] !== undefined) children.push(['StartAfter', encode(startAfter, params)]);
  if (token !== undefined) children.push(['ContinuationToken', token]);
  children.push(['MaxKeys', params.maxKeys], ['Delimiter', encode(params.delimiter, params)]);
  if (params.urlEncoded) children.push(['EncodingType', 'url']);
  children.push(['IsTruncated', page.truncated]);
  if (page.truncated) children.push(['NextContinuationToken', encodeToken(page.last)]);
  children.push(...pageEntries(bucket, page, params, showOwner));
  children.push(['KeyCount', page.contents.length + page.prefixes.length]);
  return renderXml('ListBucketResult', children);
}

export function listObjectsV1(bucket: Bucket, query: Record<string, string>): string {
  const params = listParams(query, query.marker ?? '');
  const page = listPage(bucket, params);
  const children: XmlNode[] = [
    ['Name', bucket.name],
    ['Prefix', encode(params.prefix, params)],
    ['Marker', encode(params.after, params)],
    ['MaxKeys', params.maxKeys],
    ['Delimiter', encode(params.delimiter, params)],
  ];
  if (params.urlEncoded) children.push(['EncodingType', 'url']);
  children.push(['IsTruncated', page.truncated]);
  if (page.truncated) children.push(['NextMarker', encode(page.last, params)]);
  // ListObjects always names the owner; ali-oss's `list` throws without it.
  children.push(...pageEntries(bucket, page, params, true));
  return renderXml('ListBucketResult', children);
}

/** The prefix a listing request asks for, for the policy check before listing. */
export function requestedPrefix(query: Record<string, string>): string {
  return query.prefix ?? '';
}

function listParams(query: Record<string, string>, after: string): ListParams {
  const encodingType = query['encoding-type'];
  if (encodingType !== undefined && encodingType !== 'url') throw invalidArgument('encoding-type', encodingType);
  return {
    prefix: query.prefix ?? '',
    delimiter: query.delimiter ?? '',
    maxKeys: parseMaxKeys(query['max-keys']),
    after,
    urlEncoded: encodingType === 'url',
  };
}

function parseMaxKeys(value: string | undefined): number {
  if (value === undefined) return 100;
  const maxKeys = Number(value);
  if (!/^\d+$/.test(value) || maxKeys < 1 || maxKeys > 1000) throw invalidArgument('max-keys', value);
  return maxKeys;
}

function listPage(bucket: Bucket, params: ListParams): ListPage {
  const page: ListPage = { contents: [], prefixes: [], truncated: false, last: '' };
  for (const key of sortedKeys(bucket)) {
    if (compareUtf8(key, params.after) <= 0 || !key.startsWith(params.prefix)) continue;
    const commonPrefix = commonPrefixOf(key, params);
    // Keys under a common prefix returned on an earlier page sort after it; skip them.
    if (commonPrefix !== undefined && (commonPrefix === page.last || commonPrefix === params.after)) continue;
    if (page.contents.length + page.prefixes.length === params.maxKeys) {
      page.truncated = true;
      break;
    }
    if (commonPrefix === undefined) page.contents.push(bucket.objects.get(key) as StoredObject);
    else page.prefixes.push(commonPrefix);
    page.last = commonPrefix ?? key;
  }
  return page;
}

function commonPrefixOf(key: string, params: ListParams): string | undefined {
  if (params.delimiter === '') return undefined;
  const at = key.indexOf(params.delimiter, params.prefix.length);
  return at === -1 ? undefined : key.slice(0, at + params.delimiter.length);
}

function pageEntries(bucket: Bucket, page: ListPage, params: ListParams, showOwner: boolean): XmlNode[] {
  const contents = page.contents.map((object): XmlNode => {
    const fields: XmlNode[] = [
      ['Key', encode(object.key, params)],
      ['LastModified', new Date(object.lastModified).toISOString()],
      ['ETag', `"${object.etag}"`],
      ['Type', 'Normal'],
      ['Size', object.size],
      ['StorageClass', object.storageClass],
    ];
    if (showOwner)
      fields.push([
        'Owner',
        [
          ['ID', bucket.ownerId],
          ['DisplayName', bucket.ownerId],
        ],
      ]);
    return ['Contents', fields];
  });
  const prefixes = page.prefixes.map((prefix): XmlNode => ['CommonPrefixes', [['Prefix', encode(prefix, params)]]]);
  return [...contents, ...prefixes];
}

function sortedKeys(bucket: Bucket): string[] {
  return [...bucket.objects.keys()].sort(compareUtf8);
}

/** OSS orders keys by their UTF-8 bytes, which differs from JS string order for astral characters. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function encode(text: string, params: ListParams): string {
  return params.urlEncoded ? encodeURIComponent(text) : text;
}

function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidArgument('continuation-token', token);
  return Buffer.from(token, 'base64url').toString('utf8');
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
