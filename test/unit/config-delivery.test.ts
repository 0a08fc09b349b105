import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { problemsOf } from '../support/config-problems';

const minimal = { OSS_REGION: 'cn-beijing', OSS_ALLOW: 'my-bucket' };

describe('loadConfig: OBJECT_DELIVERY, REDIRECT_EXPIRES_SECONDS, OSS_PUBLIC_ENDPOINT', () => {
  it('proxies by default, with 300 s URLs on the service’s own endpoint', () => {
    expect(loadConfig(minimal).delivery).toEqual({
      default: 'proxy',
      redirectExpiresSeconds: 300,
      publicEndpoint: 'https://oss-cn-beijing-internal.aliyuncs.com',
    });
    expect(loadConfig({ ...minimal, OSS_ENDPOINT: 'http://127.0.0.1:9000' }).delivery.publicEndpoint).toBe('http://127.0.0.1:9000');
  });

  it('reads redirect as the default, a lifetime, and the endpoint clients reach', () => {
    const config = loadConfig({
      ...minimal,
      OBJECT_DELIVERY: 'redirect',
      REDIRECT_EXPIRES_SECONDS: '60',
      OSS_PUBLIC_ENDPOINT: 'https://oss-cn-beijing.aliyuncs.com',
    });
    expect(config.delivery).toEqual({ default: 'redirect', redirectExpiresSeconds: 60, publicEndpoint: 'https://oss-cn-beijing.aliyuncs.com' });
    expect(config.oss.endpoint).toBe('https://oss-cn-beijing-internal.aliyuncs.com');
  });

  it('names every bad variable in one message', () => {
    const problems = problemsOf({ ...minimal, OBJECT_DELIVERY: 'stream', REDIRECT_EXPIRES_SECONDS: '604801', OSS_PUBLIC_ENDPOINT: 'ftp://x' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['OBJECT_DELIVERY', 'OSS_PUBLIC_ENDPOINT', 'REDIRECT_EXPIRES_SECONDS']);
    expect(problemsOf({ ...minimal, REDIRECT_EXPIRES_SECONDS: '0' })).toHaveLength(1);
  });

  it('lists the three variables among those the deployment manifests may set', () => {
    expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining(['OBJECT_DELIVERY', 'REDIRECT_EXPIRES_SECONDS', 'OSS_PUBLIC_ENDPOINT']));
  });
});
