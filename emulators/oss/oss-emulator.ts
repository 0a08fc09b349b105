import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Clock, systemClock } from '../../src/clock';
import type { StsRegistry } from '../sts-registry';
import { AccessPolicy } from './access-policy';
import type { BucketLocations, WrongRegionAnswer } from './bucket-locations';
import { Exchange } from './exchange';
import { type Fault, FaultInjector } from './faults';
import { GeneratedContent } from './generated-object';
import { type EmulatorState, handleRequest } from './handle-request';
import { type BucketAcl, MemoryObjectStore, metaOf, type ObjectMeta, type StoredObject } from './object-store-memory';
import type { RecordedRequest } from './request-log';

export type { Fault, FaultKind } from './faults';
export type { ObjectMeta, BucketAcl } from './object-store-memory';
export { BucketLocations, type WrongRegionAnswer } from './bucket-locations';
export type { RecordedRequest } from './request-log';

export interface OssEmulatorOptions {
  /** The STS the emulator checks every signed request against. */
  sts: StsRegistry;
  clock?: Clock;
  /** The region V4 signatures must be scoped to. */
  region?: string;
  /** How far a request's Date / x-oss-date may be from the clock. */
  maxSkewMs?: number;
  /** Shared by the emulators of several regions: each refuses the others' buckets as OSS does. */
  locations?: BucketLocations;
  /** How a bucket of another region is refused: 403 AccessDenied with <Endpoint> (OSS today, the default) or 301 PermanentRedirect. */
  wrongRegionAnswer?: WrongRegionAnswer;
}

/** What a test learns about an object it stored. */
export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Quoted upper-case hex, exactly as the ETag header carries it. */
  etag: string;
  crc64: bigint;
  lastModified: Date;
  contentType: string;
  storageClass: string;
  /** With versioning on: this version's id. */
  versionId?: string;
}

/**
 * An OSS endpoint on loopback, faithful where ali-oss can tell the difference:
 * virtual-host addressing, V1 and V4 signatures, STS checks against the
 * registry, a per-role policy, GetObject/HeadObject with ranges and
 * conditionals, listings, OSS error XML, huge generated objects, faults, and a
 * request log for assertions.
 */
export class OssEmulator {
  /** Every request since the last resetCounters(), oldest first. */
  readonly requests: RecordedRequest[] = [];
  /** 'request-start' | 'request-end' (record), 'fault' (record, kind), 'backpressure' (record), 'emulator-error' (error). */
  readonly events = new EventEmitter();
  readonly region: string;
  /** TCP connections accepted since the last resetCounters(): keep-alive reuse shows here. */
  connectionsAccepted = 0;

  private readonly clock: Clock;
  private readonly store: MemoryObjectStore;
  private readonly locations?: BucketLocations;
  private readonly policy = new AccessPolicy();
  private readonly faults = new FaultInjector();
  private readonly state: EmulatorState;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<Exchange>();
  private boundPort: number | undefined;

  constructor(options: OssEmulatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.region = options.region ?? 'cn-hangzhou';
    this.store = new MemoryObjectStore(this.clock);
    const auth = { sts: options.sts, clock: this.clock, region: this.region, maxSkewMs: options.maxSkewMs ?? 15 * 60 * 1000 };
    this.locations = options.locations;
    this.state = {
      store: this.store,
      policy: this.policy,
      faults: this.faults,
      auth,
      events: this.events,
      locations: options.locations,
      wrongRegionAnswer: options.wrongRegionAnswer ?? 'access-denied',
    };
    this.server = createServer((req, res) => this.accept(req, res));
    this.server.on('connection', (socket) => {
      this.connectionsAccepted += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        this.boundPort = typeof address === 'object' && address !== null ? address.port : port;
        resolve(this.boundPort);
      });
    });
  }

  /** `http://127.0.0.1:{port}`, the endpoint to give ali-oss. */
  get endpoint(): string {
    if (this.boundPort === undefined) throw new Error('the OSS emulator is not listening');
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Stops listening and destroys open connections, stalled responses included. */
  close(): Promise<void> {
    for (const exchange of this.inFlight) exchange.markEndedByEmulator();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    return closed;
  }

  /** `versioning`: PutBucketVersioning Enabled right away (see enableVersioning). */
  createBucket(name: string, options: { acl?: BucketAcl; versioning?: boolean } = {}): void {
    this.locations?.claim(name, this.region);
    this.store.createBucket(name, options.acl);
    if (options.versioning) this.store.enableVersioning(name);
  }

  /** Versioning on: every write keeps a version, a delete leaves a delete marker; objects already there become version `null`. */
  enableVersioning(bucket: string): void {
    this.store.enableVersioning(bucket);
  }

  /** The versions of a key, newest first (delete markers have no size); empty in an unversioned bucket. */
  objectVersions(bucket: string, key: string): Array<{ versionId: string; deleteMarker: boolean; info?: ObjectInfo }> {
    const history = this.store.bucket(bucket)?.history.get(key) ?? [];
    return history.map((e) => ({ versionId: e.versionId, deleteMarker: e.object === undefined, info: e.object && info(bucket, e.object) }));
  }

  putObject(bucket: string, key: string, body: Buffer | string, meta?: ObjectMeta): ObjectInfo {
    return info(bucket, this.store.put(bucket, key, body, meta));
  }

  /** A `size`-byte object whose bytes are a function of (seed, offset); never held in memory. */
  putGeneratedObject(bucket: string, key: string, size: number, seed = 1, meta?: ObjectMeta): ObjectInfo {
    return info(bucket, this.store.putGenerated(bucket, key, size, seed, meta));
  }

  /**
   * Replaces the object as another writer would: new body (or, without one,
   * different bytes of the same size), new ETag, Last-Modified now.
   */
  replaceObject(bucket: string, key: string, body?: Buffer | string): ObjectInfo {
    const current = this.requireObject(bucket, key);
    const meta = metaOf(current);
    if (body !== undefined) return this.putObject(bucket, key, body, meta);
    if (current.content instanceof GeneratedContent) {
      return this.putGeneratedObject(bucket, key, current.size, current.content.seed + 1, meta);
    }
    // Every byte inverted: same size, different bytes; an empty object becomes one byte.
    const inverted = Buffer.from(current.content.read(0, current.size).map((byte) => byte ^ 0xff));
    return this.putObject(bucket, key, inverted.length > 0 ? inverted : Buffer.from([0]), meta);
  }

  deleteObject(bucket: string, key: string): boolean {
    return this.store.delete(bucket, key);
  }

  objectInfo(bucket: string, key: string): ObjectInfo | undefined {
    const object = this.store.object(bucket, key);
    return object && info(bucket, object);
  }

  /** The bytes GET would serve for [start, end] (inclusive); for tests on small objects. */
  expectedBytes(bucket: string, key: string, start = 0, end?: number): Buffer {
    const object = this.requireObject(bucket, key);
    const last = Math.min(end ?? object.size - 1, object.size - 1);
    if (last - start + 1 > 256 * 1024 * 1024) throw new RangeError('expectedBytes: ask for at most 256 MiB');
    return last < start ? Buffer.alloc(0) : Buffer.from(object.content.read(start, last - start + 1));
  }

  /** Grants `principal` (a role name from the STS registry) reads of `bucket` keys under `prefix`. */
  allow(principal: string, bucket: string, prefix = ''): void {
    this.policy.allow(principal, bucket, prefix);
  }

  injectFault(fault: Fault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetCounters(): void {
    this.requests.length = 0;
    this.connectionsAccepted = 0;
  }

  private accept(req: IncomingMessage, res: ServerResponse): void {
    const exchange = new Exchange(req, res, this.clock, (record) => {
      this.inFlight.delete(exchange);
      this.events.emit('request-end', record);
    });
    this.inFlight.add(exchange);
    this.requests.push(exchange.record);
    void handleRequest(exchange, this.state);
  }

  private requireObject(bucket: string, key: string): StoredObject {
    const object = this.store.object(bucket, key);
    if (object === undefined) throw new Error(`no such object in the emulator: ${bucket}/${key}`);
    return object;
  }
}

export function createOssEmulator(options: OssEmulatorOptions): OssEmulator {
  return new OssEmulator(options);
}

function info(bucket: string, object: StoredObject): ObjectInfo {
  return {
    bucket,
    key: object.key,
    size: object.size,
    etag: `"${object.etag}"`,
    crc64: object.crc64,
    lastModified: new Date(object.lastModified),
    contentType: object.contentType,
    storageClass: object.storageClass,
    ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
  };
}
