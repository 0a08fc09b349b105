import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config';
import { Metrics } from '../../src/metrics';
import { countCredentialEndpointRequests, credentialEndpointHost } from '../../src/observability/credential-endpoint-requests';

function fetch(url: string, method = 'GET'): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .request(url, { method, agent: false }, (res) => res.resume().on('end', resolve))
      .on('error', reject)
      .end();
  });
}

describe('credential_endpoint_requests_total', () => {
  let servers: http.Server[] = [];
  const listen = async () => {
    const server = http.createServer((_req, res) => res.end('{}'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers = [];
  });

  it('counts the outgoing requests addressed to the credential endpoint, and no others', async () => {
    const endpoint = await listen();
    const elsewhere = await listen(); // same host, another port: OSS, say
    const config = loadConfig({
      OSS_REGION: 'cn-beijing',
      OSS_ALLOW: '*',
      CREDENTIALS_SOURCE: 'credentials_uri',
      ALIBABA_CLOUD_CREDENTIALS_URI: `${endpoint}/v1/credentials`,
    });
    const metrics = new Metrics();
    const stop = countCredentialEndpointRequests(config.credentials, metrics);

    await fetch(`${endpoint}/v1/credentials`);
    await fetch(`${endpoint}/v1/credentials`, 'PUT');
    await fetch(`${elsewhere}/object`);
    stop();
    await fetch(`${endpoint}/v1/credentials`); // after stop: not counted

    const counted = await metrics.credentialEndpointRequests.get();
    expect(counted.values.map(({ labels, value }) => ({ ...labels, value }))).toEqual([
      { source: 'credentials_uri', method: 'GET', value: 1 },
      { source: 'credentials_uri', method: 'PUT', value: 1 },
    ]);
  });

  it('knows each source endpoint: the metadata address, STS (default or configured), none for an AccessKey', () => {
    const base = { OSS_REGION: 'cn-beijing', OSS_ALLOW: '*' };
    const oidc = { ALIBABA_CLOUD_ROLE_ARN: 'r', ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'p', ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/t' };
    const host = (env: Record<string, string>) => credentialEndpointHost(loadConfig({ ...base, ...env }).credentials);
    expect(host({})).toBe('100.100.100.200');
    expect(host({ CREDENTIALS_SOURCE: 'oidc_role_arn', ...oidc })).toBe('sts.aliyuncs.com');
    expect(host({ CREDENTIALS_SOURCE: 'oidc_role_arn', ...oidc, ALIBABA_CLOUD_STS_ENDPOINT: 'sts-vpc.cn-beijing.aliyuncs.com' })).toBe(
      'sts-vpc.cn-beijing.aliyuncs.com',
    );
    expect(host({ CREDENTIALS_SOURCE: 'access_key', ALIBABA_CLOUD_ACCESS_KEY_ID: 'a', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'b' })).toBeUndefined();
  });
});
