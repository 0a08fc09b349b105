import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from './manual-clock';
import { buildService } from '../../src/compose';
import { loadConfig, type DownloadsConfig } from '../../src/config';
import type { DownloadManager } from '../../src/downloads/download-manager';
import type { FreeSpace } from '../../src/downloads/free-space';
import type { RetryPolicy } from '../../src/downloads/retry';
import type { CredentialProviderWrapper } from '../../src/credentials/credential-provider-wrapper';
import type { Metrics } from '../../src/metrics';
import type { ObjectStore } from '../../src/oss/object-store';
import { createMetadataEmulator, type MetadataEmulator } from '../../emulators/metadata/metadata-emulator';
import { BucketLocations, createOssEmulator, type OssEmulator, type RecordedRequest, type WrongRegionAnswer } from '../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../emulators/sts-registry';

/**
 * The whole service over real HTTP on loopback: both emulators, and the
 * service as src/compose.ts builds it for production (the credential wrapper
 * around the real @alicloud/credentials URI provider, the real ali-oss store,
 * the HTTP server with its limits), with a manual clock and a log collector. Only the
 * ECS metadata address needs the network-namespace tier; everything else
 * about the credential path is the same code.
 */
export const ROLE = 'oss-download-role';
export const BUCKET = 'demo-bucket';

export interface StackOptions {
  signatureVersion?: 1 | 4;
  idleTimeoutMs?: number;
  allow?: string;
  retrySeconds?: number;
  /** OSS_VERIFY_CRC64; the service's default (on) when omitted. */
  verifyCrc64?: boolean;
  /** How far OSS lets a request's date be from its own clock; default: no check. */
  maxSkewMs?: number;
  /** Where both manual clocks start (default: now); the credentials library still reads the real clock. */
  clockStart?: number;
  /** Serve /v1/downloads, writing under a fresh temporary DOWNLOAD_ROOT. */
  downloads?: StackDownloadOptions;
  /** OBJECT_DELIVERY, REDIRECT_EXPIRES_SECONDS, OSS_PUBLIC_ENDPOINT, as the service reads them. */
  delivery?: { objectDelivery?: 'proxy' | 'redirect'; redirectExpiresSeconds?: number; publicEndpoint?: string };
  /** A second OSS region on its own port (`stack.otherRegion`), reached through OSS_ENDPOINT_TEMPLATE. */
  otherRegion?: OtherRegionOptions;
}

export interface OtherRegionOptions {
  region: string;
  /** OSS_BUCKET_REGIONS, as the service reads it (e.g. `far-bucket=cn-shanghai`). */
  bucketRegions?: string;
  /** How each emulator refuses the other's buckets (default: 403 AccessDenied with <Endpoint>). */
  wrongRegionAnswer?: WrongRegionAnswer;
}

export interface StackDownloadOptions {
  config?: Partial<DownloadsConfig>;
  /** Default: 5 attempts with a sleep that does not wait (sleeps are recorded in `stack.sleeps`). */
  retry?: Partial<RetryPolicy>;
  freeSpace?: FreeSpace;
  /** Put a decorator between the jobs and the real store (e.g. to tamper with a header). */
  wrapStore?: (store: ObjectStore) => ObjectStore;
}

export interface Stack {
  /** The cloud's clock: the emulators', which decides when STS credentials expire. */
  clock: ManualClock;
  /** The service host's clock, read by the credential wrapper. (@alicloud/credentials reads the real one.) */
  serviceClock: ManualClock;
  sts: StsRegistry;
  metadata: MetadataEmulator;
  oss: OssEmulator;
  /** With `otherRegion`: the second region's emulator. */
  otherRegion?: OssEmulator;
  credentials: CredentialProviderWrapper;
  /** The real ali-oss store the app uses. */
  store: ObjectStore;
  metrics: Metrics;
  /** Every log line the service wrote. */
  logs: string[];
  /** Emits 'line' (the parsed JSON) for every log line as it is written. */
  logEvents: EventEmitter;
  baseUrl: string;
  server: http.Server;
  /** With `downloads`: the manager and its root (removed on close). Without it the routes still serve, under a root of their own. */
  downloads?: DownloadManager;
  downloadRoot?: string;
  /** Backoff delays the download retries asked for, in ms. */
  sleeps: number[];
  close(): Promise<void>;
}

export type Emulators = Pick<Stack, 'clock' | 'sts' | 'metadata' | 'oss'>;

/** Both emulators on loopback, BUCKET created and readable by ROLE. */
export async function startEmulators(
  options: Pick<StackOptions, 'maxSkewMs' | 'clockStart' | 'otherRegion'> = {},
): Promise<Emulators & { otherRegion?: OssEmulator }> {
  const clock = new ManualClock(options.clockStart ?? Date.now());
  const sts = new StsRegistry(clock);
  const metadata = createMetadataEmulator({ sts, clock, roleName: ROLE, hardenedOnly: true });
  await metadata.listen();
  // The emulator clock moves in tests that age credentials; request-time checks stay out of the way.
  const maxSkewMs = options.maxSkewMs ?? Number.POSITIVE_INFINITY;
  const locations = new BucketLocations();
  const { wrongRegionAnswer } = options.otherRegion ?? {};
  const oss = createOssEmulator({ sts, clock, region: 'cn-hangzhou', maxSkewMs, locations, wrongRegionAnswer });
  await oss.listen();
  oss.createBucket(BUCKET);
  oss.allow(ROLE, BUCKET);
  if (!options.otherRegion) return { clock, sts, metadata, oss };
  const otherRegion = createOssEmulator({ sts, clock, region: options.otherRegion.region, maxSkewMs, locations, wrongRegionAnswer });
  await otherRegion.listen();
  return { clock, sts, metadata, oss, otherRegion };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const { clock, sts, metadata, oss, otherRegion } = await startEmulators(options);

  const config = loadConfig({
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: oss.endpoint,
    OSS_ALLOW: options.allow ?? BUCKET,
    OSS_SIGNATURE_VERSION: String(options.signatureVersion ?? 4),
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
    CREDENTIALS_RETRY_SECONDS: String(options.retrySeconds ?? 5),
    LOG_LEVEL: 'debug',
    ...(options.verifyCrc64 === undefined ? {} : { OSS_VERIFY_CRC64: String(options.verifyCrc64) }),
    ...(options.delivery?.objectDelivery ? { OBJECT_DELIVERY: options.delivery.objectDelivery } : {}),
    ...(options.delivery?.redirectExpiresSeconds ? { REDIRECT_EXPIRES_SECONDS: String(options.delivery.redirectExpiresSeconds) } : {}),
    ...(options.delivery?.publicEndpoint ? { OSS_PUBLIC_ENDPOINT: options.delivery.publicEndpoint } : {}),
    // One other region: its emulator's URL as the template (no {region} in it: there is only one to reach).
    ...(otherRegion ? { OSS_ENDPOINT_TEMPLATE: otherRegion.endpoint, OSS_BUCKET_REGIONS: options.otherRegion?.bucketRegions ?? '' } : {}),
  });
  const logs: string[] = [];
  const logEvents = new EventEmitter();
  const serviceClock = new ManualClock(clock.now());
  const sleeps: number[] = [];
  const downloadRoot = mkdtempSync(path.join(tmpdir(), 'oss-download-root-'));
  // The production wiring (src/compose.ts) with the test's clock, log collector, retry sleeps and store wrapper.
  const service = await buildService(
    {
      ...config,
      oss: { ...config.oss, idleTimeoutMs: options.idleTimeoutMs ?? config.oss.idleTimeoutMs },
      downloads: { ...config.downloads, ...options.downloads?.config },
    },
    {
      clock: serviceClock,
      logDestination: lineCollector(logs, logEvents),
      downloadRoot,
      retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000, sleep: async (ms: number) => void sleeps.push(ms), ...options.downloads?.retry },
      freeSpace: options.downloads?.freeSpace,
      wrapStore: options.downloads?.wrapStore,
    },
  );
  const { server, credentials, store, metrics } = service;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    clock,
    serviceClock,
    sts,
    metadata,
    oss,
    otherRegion,
    credentials,
    store,
    metrics,
    logs,
    logEvents,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    downloads: options.downloads ? service.downloads : undefined,
    downloadRoot: options.downloads ? downloadRoot : undefined,
    sleeps,
    async close() {
      await service.close();
      rmSync(downloadRoot, { recursive: true, force: true });
      await oss.close();
      await otherRegion?.close();
      await metadata.close();
    },
  };
}

function lineCollector(lines: string[], events: EventEmitter): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const added = chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      lines.push(...added);
      for (const line of added) events.emit('line', JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
}

/** Resolves with the first log line, already written or still to come, that `predicate` accepts: an event, never a poll. */
export function awaitLogLine(
  stack: Stack,
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const written = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find(predicate);
  if (written) return Promise.resolve(written);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no such log line was written')), timeoutMs);
    const listener = (line: Record<string, unknown>) => {
      if (!predicate(line)) return;
      clearTimeout(timer);
      stack.logEvents.off('line', listener);
      resolve(line);
    };
    stack.logEvents.on('line', listener);
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The response ended cleanly (false: the connection broke mid-body). */
  complete: boolean;
}

/** A request over a fresh connection, reporting a broken transfer instead of throwing it away. */
export function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const finish = (complete: boolean) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete });
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
      res.on('aborted', () => finish(false));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET that the client breaks off once it has received `bytes` body bytes; resolves then. */
export function getAndAbortAfter(url: string, bytes: number, headers: Record<string, string> = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= bytes) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

/** Waits for the OSS emulator to finish (or lose) a request: an event, never a sleep. */
export function awaitRequestEnd(stack: Pick<Stack, 'oss'>, predicate: (r: RecordedRequest) => boolean, timeoutMs = 10_000): Promise<RecordedRequest> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the emulator saw no such request end')), timeoutMs);
    const listener = (record: RecordedRequest) => {
      if (!predicate(record)) return;
      clearTimeout(timer);
      stack.oss.events.off('request-end', listener);
      resolve(record);
    };
    stack.oss.events.on('request-end', listener);
  });
}
