import type { AuthConfig } from '../config';
import type { Logger } from '../logger';
import { TokenFileAuthenticator } from './authenticator';

/**
 * The authenticator server.ts runs with: the tokens file, watched and
 * reloaded on SIGHUP, or none when AUTH_MODE=none or no AUTH_* variable is set (said loudly at start).
 * Throws when the tokens file cannot be read or parsed: the service must not
 * start with a broken lock.
 */
export async function loadAuthenticator(config: AuthConfig, logger: Logger): Promise<TokenFileAuthenticator | undefined> {
  if (config.mode === 'unset') {
    logger.warn(
      'no AUTH_TOKENS_FILE: running without caller authentication; whoever reaches the port can read everything OSS_ALLOW allows (set AUTH_TOKENS_FILE, or AUTH_MODE=none to make it deliberate)',
    );
    ignoreSighup(logger);
    return undefined;
  }
  if (config.mode !== 'tokens' || !config.tokensFile) {
    logger.warn('AUTH_MODE=none: no caller authentication; whoever reaches the port can read everything OSS_ALLOW allows');
    ignoreSighup(logger);
    return undefined;
  }
  const auth = await TokenFileAuthenticator.load(config.tokensFile, logger);
  auth.watch();
  process.on('SIGHUP', () => void auth.reload());
  logger.info({ file: config.tokensFile, tokens: auth.size, metricsRequireToken: config.metricsRequireToken }, 'caller authentication on');
  return auth;
}

/**
 * SIGHUP means "reload the tokens file". Running open there is none, and
 * node's default action for SIGHUP ends the process (exit 129, no drain): an
 * operator's habitual `kill -HUP` (log rotation, a reload by habit) must not take the service down.
 */
function ignoreSighup(logger: Logger): void {
  process.on('SIGHUP', () => logger.info({ signal: 'SIGHUP' }, 'SIGHUP ignored: no tokens file to reload (running open)'));
}
