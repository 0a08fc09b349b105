import type { Readable } from 'node:stream';

/**
 * What routes see of OSS. One implementation (ali-oss-store.ts) talks to OSS;
 * unit tests pass fakes. Every method throws AppError with this project's
 * codes, never an SDK error.
 */
export interface ObjectStore {
  getObject(request: ObjectRequest): Promise<ObjectResponse>;
  headObject(request: ObjectRequest): Promise<ObjectResponse>;
  listObjects(request: ListRequest): Promise<ListPage>;
  /** Every version of the keys under a prefix, delete markers included (a versioned bucket). */
  listObjectVersions(request: VersionListRequest): Promise<VersionPage>;
}

/** The conditional headers HTTP defines, forwarded to OSS as the caller sent them. */
export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export interface ObjectRequest {
  bucket: string;
  key: string;
  /** One byte range, `bytes=first-last`, `bytes=first-` or `bytes=-suffix`. */
  range?: string;
  preconditions: Preconditions;
  /** One version of the object (`x-oss-version-id`); the latest when absent. */
  versionId?: string;
}

export interface ObjectResponse {
  status: 200 | 206 | 304;
  /** OSS's response headers, lower-case names; the route decides which to pass on. */
  headers: Readonly<Record<string, string>>;
  /** The object's bytes; null for HEAD and 304. Destroy it to abort the upstream request. */
  body: Readable | null;
}

export interface ListRequest {
  bucket: string;
  prefix: string;
  delimiter?: string;
  limit: number;
  /** Opaque: the nextCursor of the previous page. */
  cursor?: string;
}

export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  storageClass: string;
}

export interface ListPage {
  objects: ObjectSummary[];
  prefixes: string[];
  nextCursor: string | null;
}

export interface VersionListRequest {
  bucket: string;
  prefix: string;
  limit: number;
  /** Opaque: the nextCursor of the previous page. */
  cursor?: string;
}

/** One version of an object, or a delete marker (size 0, no etag). */
export interface ObjectVersionSummary {
  key: string;
  versionId: string;
  isLatest: boolean;
  size: number;
  etag: string | null;
  lastModified: string;
  deleteMarker: boolean;
}

export interface VersionPage {
  /** By key, then newest first, as OSS lists them. */
  versions: ObjectVersionSummary[];
  nextCursor: string | null;
}
