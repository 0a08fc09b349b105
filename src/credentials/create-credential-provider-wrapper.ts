import type { Clock } from '../clock';
import type { CredentialsConfig } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { createAlibabaCredentialSource } from './alibaba-credential-source';
import { CredentialProviderWrapper, type CredentialSource, type RefreshEvent } from './credential-provider-wrapper';

/**
 * The production wiring of the credential path: the configured
 * @alicloud/credentials source behind the wrapper, with refreshes logged (the
 * source and the expiry, never the secrets) and counted.
 */
export function createCredentialProviderWrapper(
  config: CredentialsConfig,
  deps: { clock: Clock; logger: Logger; metrics: Metrics; source?: CredentialSource },
): CredentialProviderWrapper {
  const source = deps.source ?? createAlibabaCredentialSource(config);
  const provider = new CredentialProviderWrapper(source, {
    clock: deps.clock,
    expiryMarginMs: config.expiryMarginMs,
    refreshAheadMs: config.refreshAheadMs,
    retryIntervalMs: config.retryIntervalMs,
    onRefresh: (event) => logRefresh(deps.logger, deps.metrics, event),
  });
  return provider;
}

function logRefresh(logger: Logger, metrics: Metrics, event: RefreshEvent): void {
  metrics.credentialRefreshes.inc({ source: event.source, outcome: event.outcome });
  if (event.outcome === 'refreshed') {
    if (!event.changed) return;
    const expiresAt = event.expiresAt === null ? null : new Date(event.expiresAt).toISOString();
    logger.info({ source: event.source, expiresAt }, 'credential refreshed');
    return;
  }
  const reason = event.error instanceof Error ? event.error.message : 'unknown error';
  logger.warn({ source: event.source, reason }, 'credential refresh failed');
}
