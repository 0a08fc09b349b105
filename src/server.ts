import type http from 'node:http';
import { tokensFileProblem } from './auth/tokens-file-check';
import { buildService, StartupError, type Service } from './compose';
import { ConfigError, loadConfig, tokensFilePath, type Config } from './config';
import { crc64Choice } from './crc64-choice';
import type { Lifecycle } from './lifecycle';
import type { Logger } from './logger';

/**
 * The entry point: read the configuration, build the service (compose.ts),
 * listen, and shut down cleanly on SIGTERM or SIGINT (src/lifecycle.ts).
 * Components with work to finish on shutdown register on the service's
 * lifecycle: `lifecycle.onDrain(() => jobs.drain(), 'download jobs')`.
 */
export async function main(): Promise<{ server: http.Server; lifecycle: Lifecycle }> {
  const config = await configOrExit(process.env);
  const service = await buildService(config).catch((err: unknown) => {
    if (!(err instanceof StartupError)) throw err;
    process.stderr.write(`oss-download-service: ${err.message}\n`);
    process.exit(2);
  });
  const { server, lifecycle, logger, credentials, downloads } = service;
  logCrc64Implementation(logger);

  // Before listening: a supervisor may signal as soon as it sees the 'listening' line.
  handleSignals(service);
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
    process.stderr.write(
      `oss-download-service: cannot listen on ${config.host}:${config.port}: ${reason} (PORT=${config.port}, HOST=${config.host})\n`,
    );
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

/**
 * First SIGTERM or SIGINT: drain (lifecycle.ts), then exit 0. A second one: exit at once.
 * SIGHUP reloads the tokens file; running open there is none, and node's default
 * action for SIGHUP ends the process (exit 129, no drain): an operator's habitual
 * `kill -HUP` (log rotation, a reload by habit) must not take the service down.
 */
function handleSignals({ server, lifecycle, logger, auth }: Service): void {
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
  if (auth) process.on('SIGHUP', () => void auth.reload());
  else process.on('SIGHUP', () => logger.info({ signal: 'SIGHUP' }, 'SIGHUP ignored: no tokens file to reload (running open)'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`oss-download-service: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
