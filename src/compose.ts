import type http from 'node:http';
import type { Express } from 'express';
import type { DestinationStream } from 'pino';
import { assembleApp, type AppParts } from './app';
import { downloadRoutes } from '../routes/downloads';
import { faviconRoutes } from '../routes/favicon';
import { healthRoutes } from '../routes/health';
import { metricsRoutes } from '../routes/metrics';
import { objectRoutes } from '../routes/objects';
import type { AllowList } from './access-policy';
import { downloadSlots } from './auth/download-slots';
import type { TokenFileAuthenticator } from './auth/authenticator';
import { loadAuthenticator } from './auth/load-authenticator';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import type { CredentialProviderWrapper } from './credentials/credential-provider-wrapper';
import { DownloadManager } from './downloads/download-manager';
import { checkDownloadRoot } from './downloads/download-root';
import type { FreeSpace } from './downloads/free-space';
import type { RetryPolicy } from './downloads/retry';
import { createHttpServer } from './http/http-server';
import { DEFAULT_HTTP_LIMITS } from './http/limits';
import type { ObjectRedirectOptions } from './http/object-redirect';
import { Lifecycle } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { countCredentialEndpointRequests } from './observability/credential-endpoint-requests';
import { buildCredentialPath } from './credential-path';
import type { AliOssStore } from './oss/ali-oss-store';
import { AliOssUrlSigner } from './oss/ali-oss-url-signer';
import type { ObjectStore } from './oss/object-store';

/**
 * The composition root: the one place where config becomes a running
 * service (credentials → store → downloads → app → HTTP server with its
 * limits). server.ts adds signals and `listen`; the in-process test stack
 * and the CLI call it (or its credential path) with the overrides below, so
 * they run the production wiring rather than a copy of it; the CLI takes
 * only the credential path (credential-path.ts), which keeps it off Express.
 */
export interface ServiceOverrides {
  /** The service host's clock: credentials, presigned URLs, download jobs. Default: the system clock. */
  clock?: Clock;
  /** Where the JSON log lines go. Default: stdout. */
  logDestination?: DestinationStream;
  /** Replaces DOWNLOAD_ROOT (a test's temporary folder). */
  downloadRoot?: string;
  /** The download jobs' retry policy; tests pass a `sleep` that records instead of waiting. */
  retry?: RetryPolicy;
  freeSpace?: FreeSpace;
  /** A decorator between the download jobs and the real store (a test tampers with a header). */
  wrapStore?: (store: ObjectStore) => ObjectStore;
}

export interface Service {
  app: Express;
  /** Not listening yet: server.ts (or a test) calls `listen`. */
  server: http.Server;
  lifecycle: Lifecycle;
  store: AliOssStore;
  credentials: CredentialProviderWrapper;
  downloads: DownloadManager;
  /** Present when AUTH_TOKENS_FILE is in use; server.ts reloads it on SIGHUP. */
  auth: TokenFileAuthenticator | undefined;
  logger: Logger;
  metrics: Metrics;
  /** Stops at once, without the drain: jobs suspended (checkpoints kept), connections cut, the server and the OSS connections closed. */
  close(): Promise<void>;
}

/** A configuration the service cannot start with (AUTH_TOKENS_FILE, DOWNLOAD_ROOT): server.ts prints it and exits 2. */
export class StartupError extends Error {}

export async function buildService(config: Readonly<Config>, overrides: ServiceOverrides = {}): Promise<Service> {
  const clock = overrides.clock ?? systemClock;
  const logger = createLogger(config.logLevel, overrides.logDestination);
  const metrics = new Metrics();
  const stopCounting = countCredentialEndpointRequests(config.credentials, metrics);
  const { credentials, store } = buildCredentialPath(config, { clock, logger, metrics });
  if (config.credentials.source === 'access_key') {
    logger.warn('CREDENTIALS_SOURCE=access_key: a long-term AccessKey is for local development only');
  }
  const lifecycle = new Lifecycle({ ...config.shutdown, logger });
  const auth = await loadAuthenticator(config.auth, logger).catch((err: unknown) => {
    throw new StartupError(`AUTH_TOKENS_FILE: ${err instanceof Error ? err.message : String(err)}`);
  });
  const downloads = await buildDownloads(config, { store, clock, metrics, logger, overrides });
  // Running downloads stop with their checkpoints kept, so they resume on the next start.
  lifecycle.onDrain(() => downloads.drain(), 'download jobs');
  const app = createApp({
    store,
    credentials,
    allow: config.allow,
    logger,
    metrics,
    lifecycle,
    auth,
    security: {
      metricsRequireToken: config.auth.metricsRequireToken,
      allowCidrs: config.allowCidrs,
      trustProxy: config.trustProxy,
      limits: config.httpLimits,
    },
    verifyCrc64: config.oss.verifyCrc64,
    redirect: { signer: buildUrlSigner(config, credentials, clock), defaultDelivery: config.delivery.default },
    downloads,
    clock,
    cors: config.corsOrigins,
  });
  const server = createHttpServer(app, config.httpLimits);
  return {
    app,
    server,
    lifecycle,
    store,
    credentials,
    downloads,
    auth,
    logger,
    metrics,
    async close() {
      stopCounting();
      auth?.close();
      await downloads.drain();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

/**
 * The Express app from its dependencies: the routers of routes/ inside the
 * app's fixed layers (src/app.ts). It never listens: buildService calls it with
 * the real dependencies, unit tests with fakes or emulator-backed ones.
 */
export interface AppDeps extends Omit<AppParts, 'publicRoutes' | 'routes'> {
  store: ObjectStore;
  allow: AllowList;
  /** Check whole-object GETs against OSS's CRC64. buildService passes OSS_VERIFY_CRC64 (on unless set to false); off when omitted, for fakes without real checksums. */
  verifyCrc64?: boolean;
  /** Redirect mode (`?redirect=true`, OBJECT_DELIVERY=redirect); absent: every object is streamed through. */
  redirect?: ObjectRedirectOptions;
  /** Download-to-disk jobs (/v1/downloads); without it those routes answer 404. */
  downloads?: DownloadManager;
  clock?: Clock;
}

export function createApp(deps: AppDeps): Express {
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  const limits = deps.security?.limits ?? DEFAULT_HTTP_LIMITS;
  // The object routes first: the paths do not overlap, and the hot path then meets two routers fewer.
  const routes = [
    objectRoutes({ store: deps.store, allow: deps.allow, metrics: deps.metrics, verifyCrc64: deps.verifyCrc64, redirect: deps.redirect }),
    healthRoutes({ credentials: deps.credentials, lifecycle }),
    metricsRoutes(deps.metrics),
  ];
  if (deps.downloads) {
    routes.push(
      downloadRoutes({
        downloads: deps.downloads,
        allow: deps.allow,
        clock: deps.clock ?? systemClock,
        downloadLimiter: downloadSlots(limits.maxDownloadsPerToken),
        maxBodyBytes: limits.maxJsonBodyBytes,
      }),
    );
  }
  // The favicon before the guards: browsers never send a token for it.
  return assembleApp({ ...deps, lifecycle, publicRoutes: [faviconRoutes()], routes });
}

/** Presigned URLs for `?redirect=true`: the triple at the moment of signing, the service host's clock. */
function buildUrlSigner(config: Readonly<Config>, credentials: CredentialProviderWrapper, clock: Clock): AliOssUrlSigner {
  return new AliOssUrlSigner({
    credentials,
    region: config.oss.region,
    endpoint: config.delivery.publicEndpoint,
    bucketRegions: config.oss.bucketRegions,
    signatureVersion: config.oss.signatureVersion,
    expiresSeconds: config.delivery.redirectExpiresSeconds,
    expiryMarginMs: config.credentials.expiryMarginMs,
    clock,
  });
}

async function buildDownloads(
  config: Readonly<Config>,
  parts: { store: ObjectStore; clock: Clock; metrics: Metrics; logger: Logger; overrides: ServiceOverrides },
): Promise<DownloadManager> {
  const { overrides, logger } = parts;
  const root = overrides.downloadRoot ?? config.downloadRoot;
  const check = await checkDownloadRoot(root, config.downloadRootShared);
  if (!check.ok) throw new StartupError(`DOWNLOAD_ROOT: ${check.problem}`);
  if (check.warning) logger.warn(`DOWNLOAD_ROOT: ${check.warning}`);
  return new DownloadManager({
    store: overrides.wrapStore?.(parts.store) ?? parts.store,
    root,
    allow: config.allow,
    config: config.downloads,
    clock: parts.clock,
    metrics: parts.metrics,
    logger,
    retry: overrides.retry,
    freeSpace: overrides.freeSpace,
  });
}
