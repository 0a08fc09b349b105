import { XMLParser } from 'fast-xml-parser';
import type { ListPage } from './object-store';

/**
 * OSS's ListObjectsV2 answer (`<ListBucketResult>`) read into a page, as
 * ali-oss's listV2 read it: keys come as plain XML text (the request does not
 * ask for `encoding-type=url`), every value stays a string until read here
 * (a key `1e5` is a key, not a number), and no text is trimmed (a key may end
 * in a space).
 */
const parser = new XMLParser({
  parseTagValue: false,
  trimValues: false,
  // Numeric character references (&#x1F600;) as well as the five XML entities.
  htmlEntities: true,
  isArray: (name) => name === 'Contents' || name === 'CommonPrefixes',
});

interface ListBucketResult {
  Contents?: { Key?: string; Size?: string; ETag?: string; LastModified?: string; StorageClass?: string }[];
  CommonPrefixes?: { Prefix?: string }[];
  IsTruncated?: string;
  NextContinuationToken?: string;
}

export function parseObjectListing(xml: string): ListPage {
  const result = (parser.parse(xml) as { ListBucketResult?: ListBucketResult }).ListBucketResult ?? {};
  return {
    objects: (result.Contents ?? []).map((o) => ({
      key: o.Key ?? '',
      size: Number(o.Size),
      etag: o.ETag ?? '',
      lastModified: o.LastModified ?? '',
      storageClass: o.StorageClass ?? '',
    })),
    prefixes: (result.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
    nextCursor: result.IsTruncated === 'true' ? result.NextContinuationToken || null : null,
  };
}
