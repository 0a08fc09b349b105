import { createHash } from 'node:crypto';
import type { Clock } from '../../src/clock';
import { crc64 } from '../../src/crc64';
import { GeneratedContent } from './generated-object';
import { BufferContent, type ObjectContent } from './object-content';

export type BucketAcl = 'private' | 'public-read';

/** Object metadata a test can set, as PutObject headers would. */
export interface ObjectMeta {
  contentType?: string;
  cacheControl?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  expires?: string;
  lastModified?: Date;
  storageClass?: string;
}

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  /** Upper-case hex, unquoted. */
  readonly etag: string;
  readonly crc64: bigint;
  /** Whole seconds, as HTTP dates carry no more. */
  readonly lastModified: number;
  readonly contentType: string;
  readonly storageClass: string;
  readonly cacheControl?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly contentDisposition?: string;
  readonly expires?: string;
  /** Base64 MD5 of the body; OSS sends it for simply-uploaded objects. */
  readonly contentMd5?: string;
  readonly content: ObjectContent;
  /** Set once the bucket has versioning on (`null` for an object written before it was turned on). */
  readonly versionId?: string;
}

/** One entry of a key's history in a versioned bucket: an object version, or a delete marker (no object). */
export interface VersionEntry {
  readonly versionId: string;
  /** Whole seconds. */
  readonly lastModified: number;
  readonly object?: StoredObject;
}

export interface Bucket {
  readonly name: string;
  readonly acl: BucketAcl;
  /** The account id OSS shows as Owner in listings. */
  readonly ownerId: string;
  /** The current version of each key: what unversioned reads and listings see. */
  readonly objects: Map<string, StoredObject>;
  /** PutBucketVersioning Enabled: writes keep every version, deletes leave delete markers. */
  versioning: boolean;
  /** Each key's versions, newest first (only once versioning is on). */
  readonly history: Map<string, VersionEntry[]>;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** The emulator's buckets and objects, all in memory (generated objects take no room). */
export class MemoryObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private versionCounter = 0;

  constructor(private readonly clock: Clock) {}

  createBucket(name: string, acl: BucketAcl = 'private'): Bucket {
    if (!BUCKET_NAME.test(name)) throw new Error(`invalid bucket name: ${name}`);
    const existing = this.buckets.get(name);
    if (existing) return existing;
    const ownerId = String(1_000_000_000_000_000n + BigInt(this.buckets.size));
    const bucket: Bucket = { name, acl, ownerId, objects: new Map(), versioning: false, history: new Map() };
    this.buckets.set(name, bucket);
    return bucket;
  }

  bucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  object(bucketName: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucketName)?.objects.get(key);
  }

  put(bucketName: string, key: string, body: Buffer | string, meta: ObjectMeta = {}): StoredObject {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    const md5 = createHash('md5').update(bytes).digest();
    return this.store(bucketName, key, meta, {
      content: new BufferContent(bytes),
      etag: md5.toString('hex').toUpperCase(),
      crc64: crc64(bytes),
      contentMd5: md5.toString('base64'),
    });
  }

  putGenerated(bucketName: string, key: string, size: number, seed: number, meta: ObjectMeta = {}): StoredObject {
    const content = new GeneratedContent(seed, size);
    return this.store(bucketName, key, meta, { content, etag: content.etag(), crc64: content.crc64() });
  }

  /** In a versioned bucket a delete keeps every version and puts a delete marker on top. */
  delete(bucketName: string, key: string): boolean {
    const bucket = this.requireBucket(bucketName);
    if (!bucket.versioning) return bucket.objects.delete(key);
    const versions = bucket.history.get(key) ?? [];
    bucket.history.set(key, [{ versionId: this.newVersionId(), lastModified: wholeSeconds(this.clock.now()) }, ...versions]);
    bucket.objects.delete(key);
    return true;
  }

  /** Turns versioning on; objects already there become their key's `null` version. */
  enableVersioning(bucketName: string): void {
    const bucket = this.requireBucket(bucketName);
    if (bucket.versioning) return;
    bucket.versioning = true;
    for (const [key, object] of bucket.objects) {
      const versioned = { ...object, versionId: 'null' };
      bucket.objects.set(key, versioned);
      bucket.history.set(key, [{ versionId: 'null', lastModified: object.lastModified, object: versioned }]);
    }
  }

  /** Version ids shaped like OSS's (base64 text starting `CAEQ`), from a counter: the same in every run. */
  private newVersionId(): string {
    this.versionCounter += 1;
    const seed = createHash('sha256').update(`version-${this.versionCounter}`).digest('base64url').slice(0, 40);
    return `CAEQ${seed}`;
  }

  private store(
    bucketName: string,
    key: string,
    meta: ObjectMeta,
    body: Pick<StoredObject, 'content' | 'etag' | 'crc64' | 'contentMd5'>,
  ): StoredObject {
    if (key === '' || key.startsWith('/') || Buffer.byteLength(key) > 1023) throw new Error(`invalid object key: ${key}`);
    const object: StoredObject = {
      key,
      size: body.content.size,
      lastModified: wholeSeconds(meta.lastModified?.getTime() ?? this.clock.now()),
      contentType: meta.contentType ?? 'application/octet-stream',
      storageClass: meta.storageClass ?? 'Standard',
      cacheControl: meta.cacheControl,
      contentEncoding: meta.contentEncoding,
      contentLanguage: meta.contentLanguage,
      contentDisposition: meta.contentDisposition,
      expires: meta.expires,
      ...body,
    };
    const bucket = this.requireBucket(bucketName);
    if (!bucket.versioning) {
      bucket.objects.set(key, object);
      return object;
    }
    const versioned: StoredObject = { ...object, versionId: this.newVersionId() };
    bucket.objects.set(key, versioned);
    bucket.history.set(key, [
      { versionId: versioned.versionId!, lastModified: versioned.lastModified, object: versioned },
      ...(bucket.history.get(key) ?? []),
    ]);
    return versioned;
  }

  private requireBucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new Error(`no such bucket in the emulator: ${name}`);
    return bucket;
  }
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** The metadata an object was stored with, to carry over when its body is replaced. */
export function metaOf(object: StoredObject): ObjectMeta {
  const { contentType, cacheControl, contentEncoding, contentLanguage, contentDisposition, expires, storageClass } = object;
  return { contentType, cacheControl, contentEncoding, contentLanguage, contentDisposition, expires, storageClass };
}
