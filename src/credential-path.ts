import type { Clock } from './clock';
import type { Config } from './config';
import { createCredentialProviderWrapper } from './credentials/create-credential-provider-wrapper';
import type { CredentialProviderWrapper } from './credentials/credential-provider-wrapper';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { AliOssStore } from './oss/ali-oss-store';

/**
 * The credential path the service and the CLI share: the wrapper that
 * re-reads the STS triple on every OSS request (the Python example's
 * CredentialProviderWrapper), and the ali-oss store that signs with it.
 */
export function buildCredentialPath(
  config: Readonly<Config>,
  parts: { clock: Clock; logger: Logger; metrics: Metrics },
): { credentials: CredentialProviderWrapper; store: AliOssStore } {
  const credentials = createCredentialProviderWrapper(config.credentials, parts);
  const store = new AliOssStore({
    ...config.oss,
    credentials,
    onUpstreamResponse: parts.metrics.countUpstreamResponse,
    onWrongRegion: parts.metrics.countWrongRegion,
  });
  return { credentials, store };
}
