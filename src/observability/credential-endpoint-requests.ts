import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { CredentialsConfig } from '../config';
import type { Metrics } from '../metrics';

/**
 * Counts the HTTP requests @alicloud/credentials sends to its endpoint (the
 * ECS metadata service, STS, or the credentials URI) without touching the
 * library: Node publishes every outgoing request on the
 * `http.client.request.start` diagnostics channel, and the ones addressed to
 * the credential endpoint are counted. The ECS source makes two per fetch in
 * hardened mode (token PUT, then the credential GET), which the wrapper's
 * refresh counter cannot show.
 */
const CHANNEL = 'http.client.request.start';

/** Starts counting; returns the function that stops it. */
export function countCredentialEndpointRequests(config: CredentialsConfig, metrics: Metrics): () => void {
  const host = credentialEndpointHost(config);
  if (host === undefined) return () => undefined;
  const onRequest = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    if (request && request.getHeader('host') === host) {
      metrics.credentialEndpointRequests.inc({ source: config.source, method: request.method });
    }
  };
  diagnosticsChannel.subscribe(CHANNEL, onRequest);
  return () => diagnosticsChannel.unsubscribe(CHANNEL, onRequest);
}

/** The Host header the library's requests carry; undefined for a source that sends none (access_key). */
export function credentialEndpointHost(config: CredentialsConfig): string | undefined {
  switch (config.source) {
    case 'ecs_ram_role':
      return '100.100.100.200'; // hard-coded in the library, port 80
    case 'credentials_uri':
      return config.credentialsUri ? new URL(config.credentialsUri).host : undefined;
    case 'oidc_role_arn':
      // The library builds https://{endpoint}; its default without ALIBABA_CLOUD_STS_ENDPOINT.
      return config.oidc?.stsEndpoint ?? 'sts.aliyuncs.com';
    case 'access_key':
      return undefined;
  }
}
