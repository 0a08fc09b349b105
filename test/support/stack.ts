import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createCredentialsProvider } from '../../src/credentials/create-credentials-provider';
import type { CredentialProviderWrapper } from '../../src/credentials/credentials-provider';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { AliOssStore } from '../../src/oss/ali-oss-store';
import { createMetadataEmulator, type MetadataEmulator } from '../../emulators/metadata/metadata-emulator';
import { createOssEmulator, type OssEmulator, type RecordedRequest } from '../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../emulators/sts-registry';

/**
 * The whole service over real HTTP on loopback: both emulators, and the app
 * built from the real modules (the credential wrapper around the real
 * @alicloud/credentials URI provider, the real ali-oss store). Only the
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
  /** How far OSS lets a request's date be from its own clock; default: no check. */
  maxSkewMs?: number;
  /** Where both manual clocks start (default: now); the credentials library still reads the real clock. */
  clockStart?: number;
}

export interface Stack {
  /** The cloud's clock: the emulators', which decides when STS credentials expire. */
  clock: ManualClock;
  /** The service host's clock, read by the credential wrapper. (@alicloud/credentials reads the real one.) */
  serviceClock: ManualClock;
  sts: StsRegistry;
  metadata: MetadataEmulator;
  oss: OssEmulator;
  credentials: CredentialProviderWrapper;
  metrics: Metrics;
  /** Every log line the service wrote. */
  logs: string[];
  baseUrl: string;
  server: http.Server;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clock = new ManualClock(options.clockStart ?? Date.now());
  const sts = new StsRegistry(clock);
  const metadata = createMetadataEmulator({ sts, clock, roleName: ROLE, hardenedOnly: true });
  await metadata.listen();
  // The emulator clock moves in tests that age credentials; request-time checks stay out of the way.
  const oss = createOssEmulator({ sts, clock, region: 'cn-hangzhou', maxSkewMs: options.maxSkewMs ?? Number.POSITIVE_INFINITY });
  await oss.listen();
  oss.createBucket(BUCKET);
  oss.allow(ROLE, BUCKET);

  const config = loadConfig({
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: oss.endpoint,
    OSS_ALLOW: options.allow ?? BUCKET,
    OSS_SIGNATURE_VERSION: String(options.signatureVersion ?? 4),
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
    CREDENTIALS_RETRY_SECONDS: String(options.retrySeconds ?? 5),
    LOG_LEVEL: 'debug',
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, lineCollector(logs));
  const metrics = new Metrics();
  const serviceClock = new ManualClock(clock.now());
  const credentials = createCredentialsProvider(config.credentials, { clock: serviceClock, logger, metrics });
  const store = new AliOssStore({
    ...config.oss,
    credentials,
    idleTimeoutMs: options.idleTimeoutMs ?? config.oss.idleTimeoutMs,
  });
  const app = createApp({ store, credentials, allow: config.allow, logger, metrics });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    clock,
    serviceClock,
    sts,
    metadata,
    oss,
    credentials,
    metrics,
    logs,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await oss.close();
      await metadata.close();
    },
  };
}

function lineCollector(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
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
      const finish = (complete: boolean) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete });
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
      res.on('aborted', () => finish(false));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits for the OSS emulator to finish (or lose) a request: an event, never a sleep. */
export function awaitRequestEnd(stack: Stack, predicate: (r: RecordedRequest) => boolean, timeoutMs = 10_000): Promise<RecordedRequest> {
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
