import http from 'node:http';
import { createApp } from './app';
import { loadAuthenticator } from './auth/load-authenticator';
import { tokensFileProblem } from './auth/tokens-file-check';
import { systemClock } from './clock';
import { ConfigError, loadConfig, tokensFilePath, type Config } from './config';
import { crc64Choice } from './crc64-choice';
import { createCredentialsProvider } from './credentials/create-credentials-provider';
import { DownloadManager } from './downloads/download-manager';
import { checkDownloadRoot } from './downloads/download-root';
import { createHttpServer } from './http/http-server';
import { Lifecycle } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { countCredentialEndpointRequests } from './observability/credential-endpoint-requests';
import { AliOssStore } from './oss/ali-oss-store';
import { AliOssUrlSigner } from './oss/ali-oss-url-signer';

/**
 * The entry point: read the configuration, build the real dependencies,
 * listen, and shut down cleanly on SIGTERM or SIGINT (src/lifecycle.ts).
 * Components with work to finish on shutdown register on the returned
 * lifecycle: `lifecycle.onDrain(() => jobs.drain(), 'download jobs')`.
 */
export async function main(): Promise<{ server: http.Server; lifecycle: Lifecycle }> {
  const config = await configOrExit(process.env);

  const logger = createLogger(config.logLevel);
  logCrc64Implementation(logger);
  const metrics = new Metrics();
  countCredentialEndpointRequests(config.credentials, metrics);
  const credentials = createCredentialsProvider(config.credentials, { clock: systemClock, logger, metrics });
  if (config.credentials.source === 'access_key') {
    logger.warn('CREDENTIALS_SOURCE=access_key: a long-term AccessKey is for local development only');
  }
  const store = new AliOssStore({
    ...config.oss,
    credentials,
    onUpstreamResponse: metrics.countUpstreamResponse,
    onWrongRegion: metrics.countWrongRegion,
  });
  const signer = new AliOssUrlSigner({
    credentials,
    region: config.oss.region,
    endpoint: config.delivery.publicEndpoint,
    bucketRegions: config.oss.bucketRegions,
    signatureVersion: config.oss.signatureVersion,
    expiresSeconds: config.delivery.redirectExpiresSeconds,
    expiryMarginMs: config.credentials.expiryMarginMs,
    clock: systemClock,
  });
  const lifecycle = new Lifecycle({ ...config.shutdown, logger });
  const auth = await loadAuthenticator(config.auth, logger).catch((err: unknown) => {
    process.stderr.write(`oss-download-service: AUTH_TOKENS_FILE: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
  const security = {
    metricsRequireToken: config.auth.metricsRequireToken,
    allowCidrs: config.allowCidrs,
    trustProxy: config.trustProxy,
    limits: config.httpLimits,
  };
  const root = await checkDownloadRoot(config.downloadRoot, config.downloadRootShared);
  if (!root.ok) {
    process.stderr.write(`oss-download-service: DOWNLOAD_ROOT: ${root.problem}\n`);
    process.exit(2);
  }
  if (root.warning) logger.warn(`DOWNLOAD_ROOT: ${root.warning}`);
  const downloads = new DownloadManager({
    store,
    root: config.downloadRoot,
    allow: config.allow,
    config: config.downloads,
    clock: systemClock,
    metrics,
    logger,
  });
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
    security,
    verifyCrc64: config.oss.verifyCrc64,
    redirect: { signer, defaultDelivery: config.delivery.default },
    downloads,
    cors: config.corsOrigins,
  });

  const server = createHttpServer(app, config.httpLimits);
  // Before listening: a supervisor may signal as soon as it sees the 'listening' line.
  handleSignals(server, lifecycle, logger);
  await listenOrExit(server, config);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    {
      host: config.host,
      port,
      region: config.oss.region,
      endpoint: config.oss.endpoint,
      credentialsSource: config.credentials.source,
      verifyCrc64: config.oss.verifyCrc64,
      objectDelivery: config.delivery.default,
      shutdownGraceMs: config.shutdown.graceMs,
      shutdownDrainMs: config.shutdown.drainMs,
    },
    'listening',
  );

  // Warm the credential cache so /readyz turns green without waiting for traffic.
  credentials.getCredentials().catch(() => undefined);
  if (config.downloads.resumeOnStart) {
    const resumed = await downloads.resumeFromCheckpoints();
    logger.info({ jobs: resumed.length }, 'downloads resumed from checkpoints');
  }
  return { server, lifecycle };
}

/** The environment and the tokens file it names, checked together: one message lists every problem, then exit 2. */
async function configOrExit(env: NodeJS.ProcessEnv): Promise<Readonly<Config>> {
  const problems: string[] = [];
  let config: Readonly<Config> | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const tokensFile = config ? config.auth.tokensFile : tokensFilePath(env);
  const tokensProblem = tokensFile ? await tokensFileProblem(tokensFile) : undefined;
  if (tokensProblem) problems.push(tokensProblem);
  if (config && problems.length === 0) return config;
  process.stderr.write(`oss-download-service: ${new ConfigError(problems).message}\n`);
  process.exit(2);
}

/** A port in use (or not ours to take) is an operator's mistake: one line naming it, exit 2, no stack. */
async function listenOrExit(server: http.Server, config: Readonly<Config>): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const reason = LISTEN_ERRORS[(err as NodeJS.ErrnoException).code ?? ''];
    if (!reason) throw err;
    process.stderr.write(`oss-download-service: cannot listen on ${config.host}:${config.port}: ${reason} (PORT=${config.port}, HOST=${config.host})\n`);
    process.exit(2);
  }
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use; stop what holds it or set another PORT',
  EACCES: 'permission denied (ports below 1024 need privileges); set another PORT',
  EADDRNOTAVAIL: 'no interface on this host has that address; check HOST',
};

/** Says which CRC-64 checks the bytes: the TypeScript fallback is several times slower per byte. */
function logCrc64Implementation(logger: Logger): void {
  const { impl, fallbackReason } = crc64Choice;
  if (impl === 'liblzma') logger.info({ crc64: impl }, 'CRC-64: liblzma lzma_crc64 through koffi');
  else logger.info({ crc64: impl, reason: fallbackReason }, 'CRC-64: the TypeScript fallback (liblzma could not be used)');
}

/** First signal: drain (lifecycle.ts), then exit 0. A second signal: exit at once. */
function handleSignals(server: http.Server, lifecycle: Lifecycle, logger: Logger): void {
  const shutdown = (signal: NodeJS.Signals) => {
    if (lifecycle.draining) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    void lifecycle.shutdown().then(() => {
      server.close();
      server.closeAllConnections(); // what the drain time did not finish is cut
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`oss-download-service: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
