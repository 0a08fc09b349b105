import type { AuthConfig } from '../config';
import type { Logger } from '../logger';
import { TokenFileAuthenticator } from './authenticator';

/**
 * The authenticator the service runs with: the tokens file, watched (server.ts
 * also reloads it on SIGHUP), or none when AUTH_MODE=none or no AUTH_* variable is set (said loudly at start).
 * Throws when the tokens file cannot be read or parsed: the service must not
 * start with a broken lock.
 */
export async function loadAuthenticator(config: AuthConfig, logger: Logger): Promise<TokenFileAuthenticator | undefined> {
  if (config.mode === 'unset') {
    logger.warn(
      'no AUTH_TOKENS_FILE: running without caller authentication; whoever reaches the port can read everything OSS_ALLOW allows (set AUTH_TOKENS_FILE, or AUTH_MODE=none to make it deliberate)',
    );
    return undefined;
  }
  if (config.mode !== 'tokens' || !config.tokensFile) {
    logger.warn('AUTH_MODE=none: no caller authentication; whoever reaches the port can read everything OSS_ALLOW allows');
    return undefined;
  }
  const auth = await TokenFileAuthenticator.load(config.tokensFile, logger);
  auth.watch();
  logger.info({ file: config.tokensFile, tokens: auth.size, metricsRequireToken: config.metricsRequireToken }, 'caller authentication on');
  return auth;
}
