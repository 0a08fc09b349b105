import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock';
import { createOssEmulator, type OssEmulator } from '../../emulators/oss/oss-emulator';
import { StsEmulator } from '../../emulators/sts/sts-emulator';
import { StsRegistry } from '../../emulators/sts-registry';
import { makeLoopbackTls, type LoopbackTls } from '../support/loopback-tls';
import { parsePrometheusText } from '../support/prometheus-text';
import { killAllServices, loopbackServiceEnv, startService, type ServiceProcess } from '../support/service-process';
import { get } from '../support/stack';

const ROLE = 'oss-download-role';
const ROLE_ARN = `acs:ram::1234567890123456:role/${ROLE}`;
const PROVIDER_ARN = 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0123456789';
const GOOD_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.service-account-token.signature';
const BUCKET = 'rrsa-bucket';
const COLD_START_REQUESTS = 20;

/**
 * CREDENTIALS_SOURCE=oidc_role_arn (RRSA on ACK) through the real, unmodified
 * @alicloud/credentials OIDC provider, in the built service, against the STS emulator's
 * AssumeRoleWithOIDC on loopback. The library always calls STS over https
 * (oidc_role_arn.js: withProtocol('https')), so the emulator serves a throw-away certificate
 * for 127.0.0.1 that the service trusts through NODE_EXTRA_CA_CERTS; ALIBABA_CLOUD_STS_ENDPOINT
 * points the library at it. No namespace is needed: nothing is addressed outside 127.0.0.1.
 */
describe('CREDENTIALS_SOURCE=oidc_role_arn (RRSA) against an emulated STS', () => {
  let tls: LoopbackTls;
  let sts: StsRegistry;
  let stsEmulator: StsEmulator;
  let oss: OssEmulator;
  let dir: string;

  beforeAll(async () => {
    tls = makeLoopbackTls();
    sts = new StsRegistry(systemClock);
    stsEmulator = new StsEmulator({ sts, tls, oidcProviderArn: PROVIDER_ARN, acceptedTokens: [GOOD_TOKEN] });
    await stsEmulator.listen();
    oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
    await oss.listen();
    oss.createBucket(BUCKET);
    oss.allow(ROLE, BUCKET);
    oss.putObject(BUCKET, 'report.txt', 'signed with the pod role\n');
    dir = mkdtempSync(join(tmpdir(), 'oss-download-rrsa-'));
  });

  afterEach(() => killAllServices());
  afterAll(async () => {
    await oss.close();
    await stsEmulator.close();
  });

  function start(token: string): Promise<ServiceProcess> {
    const tokenFile = join(dir, `token-${stsEmulator.calls.length}-${token.length}`);
    writeFileSync(tokenFile, token);
    return startService(
      loopbackServiceEnv(oss.endpoint, BUCKET, {
        CREDENTIALS_SOURCE: 'oidc_role_arn',
        ALIBABA_CLOUD_ROLE_ARN: ROLE_ARN,
        ALIBABA_CLOUD_OIDC_PROVIDER_ARN: PROVIDER_ARN,
        ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
        ALIBABA_CLOUD_STS_ENDPOINT: stsEmulator.endpoint,
        NODE_EXTRA_CA_CERTS: tls.certPath,
      }),
    );
  }

  it('serves objects signed with the STS triple issued for the role, after one AssumeRoleWithOIDC for the start and a burst of requests', async () => {
    stsEmulator.calls.length = 0;
    oss.resetCounters();
    const service = await start(GOOD_TOKEN);
    const answers = await Promise.all(Array.from({ length: COLD_START_REQUESTS }, () => get(`${service.baseUrl}/v1/objects/${BUCKET}/report.txt`)));
    const ready = await get(`${service.baseUrl}/readyz`);
    const metrics = parsePrometheusText((await get(`${service.baseUrl}/metrics`)).body.toString());
    const issued = sts.all().at(-1);

    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.every((a) => a.body.toString() === 'signed with the pod role\n')).toBe(true);
    expect(stsEmulator.calls).toEqual([{ action: 'AssumeRoleWithOIDC', roleArn: ROLE_ARN, roleSessionName: 'oss-download-service', status: 200 }]);
    expect(
      oss.requests.every((r) => r.principal === ROLE && r.accessKeyId === issued?.accessKeyId && r.securityToken === issued?.securityToken),
    ).toBe(true);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body.toString())).toMatchObject({ credentials: { source: 'oidc_role_arn' } });
    expect(metrics.value('credential_endpoint_requests_total', { source: 'oidc_role_arn', method: 'POST' })).toBe(1);
    expect(metrics.value('credential_refreshes_total', { source: 'oidc_role_arn', outcome: 'refreshed' })).toBe(1);
    for (const secret of [issued?.accessKeySecret, issued?.securityToken, GOOD_TOKEN]) {
      expect(service.output().includes(secret as string)).toBe(false);
    }
  }, 20_000);

  it('with a token STS refuses: /readyz and GET answer 503 CredentialsUnavailable, OSS is never called', async () => {
    stsEmulator.calls.length = 0;
    oss.resetCounters();
    const service = await start('not-a-valid-token');

    const ready = await get(`${service.baseUrl}/readyz`);
    const object = await get(`${service.baseUrl}/v1/objects/${BUCKET}/report.txt`);

    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body.toString())).toMatchObject({ code: 'CredentialsUnavailable' });
    expect(JSON.parse(object.body.toString())).toMatchObject({ status: 503, code: 'CredentialsUnavailable' });
    expect(stsEmulator.calls[0]).toMatchObject({ status: 400, code: 'AuthenticationFail.OIDCToken.Invalid' });
    expect(oss.requests).toEqual([]);
    expect(service.output().includes('not-a-valid-token')).toBe(false);
  }, 20_000);
});
