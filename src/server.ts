import http from 'node:http';
import { createApp } from './app';
import { loadAuthenticator } from './auth/load-authenticator';
import { systemClock } from './clock';
import { ConfigError, loadConfig, type Config } from './config';
import { createCredentialsProvider } from './credentials/create-credentials-provider';
import { DownloadManager } from './downloads/download-manager';
import { createHttpServer } from './http/http-server';
import { createLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { AliOssStore } from './oss/ali-oss-store';

/**
 * The entry point: read the configuration, build the real dependencies,
 * listen, and shut down cleanly on SIGTERM or SIGINT.
 */
export async function main(): Promise<http.Server> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(process.env, { requireAuthDecision: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`oss-download-service: ${err.message}\n`);
    process.exit(2);
  }

  const logger = createLogger(config.logLevel);
  const metrics = new Metrics();
  const credentials = createCredentialsProvider(config.credentials, { clock: systemClock, logger, metrics });
  if (config.credentials.source === 'access_key') {
    logger.warn('CREDENTIALS_SOURCE=access_key: a long-term AccessKey is for local development only');
  }
  const store = new AliOssStore({
    ...config.oss,
    credentials,
    onUpstreamResponse: (e) => metrics.upstreamResponses.inc({ status: String(e.status), code: e.code ?? '' }),
  });
  const lifecycle = { draining: false };
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
  const downloads = new DownloadManager({ store, root: config.downloadRoot, config: config.downloads, clock: systemClock, metrics, logger });
  const app = createApp({ store, credentials, allow: config.allow, logger, metrics, lifecycle, auth, security, downloads });

  const server = createHttpServer(app, config.httpLimits);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { host: config.host, port, region: config.oss.region, endpoint: config.oss.endpoint, credentialsSource: config.credentials.source },
    'listening',
  );

  // Warm the credential cache so /readyz turns green without waiting for traffic.
  credentials.getCredentials().catch(() => undefined);
  if (config.downloads.resumeOnStart) {
    const resumed = await downloads.resumeFromCheckpoints();
    logger.info({ jobs: resumed.length }, 'downloads resumed from checkpoints');
  }
  handleSignals(server, lifecycle, logger, downloads);
  return server;
}

function handleSignals(server: http.Server, lifecycle: { draining: boolean }, logger: Logger, downloads: DownloadManager): void {
  const shutdown = (signal: NodeJS.Signals) => {
    if (lifecycle.draining) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    lifecycle.draining = true;
    logger.info({ signal }, 'draining: finishing in-flight requests');
    // Running downloads stop with their checkpoints kept, so ?wait=true callers get an answer before close.
    void downloads.drain();
    server.close(() => {
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
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
