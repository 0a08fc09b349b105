import type { AuthConfig } from '../config';
import type { Logger } from '../logger';
import { TokenFileAuthenticator } from './authenticator';

/**
 * The authenticator server.ts runs with: the tokens file, watched and
 * reloaded on SIGHUP, or none when AUTH_MODE=none (said loudly at start).
 * Throws when the tokens file cannot be read or parsed: the service must not
 * start with a broken lock.
 */
export async function loadAuthenticator(config: AuthConfig, logger: Logger): Promise<TokenFileAuthenticator | undefined> {
  if (config.mode !== 'tokens' || !config.tokensFile) {
    logger.warn('AUTH_MODE=none: no caller authentication; whoever reaches the port can read everything OSS_ALLOW allows');
    return undefined;
  }
  const auth = await TokenFileAuthenticator.load(config.tokensFile, logger);
  auth.watch();
  process.on('SIGHUP', () => void auth.reload());
  logger.info({ file: config.tokensFile, tokens: auth.size, metricsRequireToken: config.metricsRequireToken }, 'caller authentication on');
  return auth;
}
