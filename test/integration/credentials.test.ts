import { BUCKET, get, startStack, type Stack } from '../support/stack';

/**
 * The credential path end to end: the wrapper around the real
 * @alicloud/credentials URI provider, fed by the metadata emulator, signing
 * requests that the OSS emulator checks against the emulated STS.
 */
describe('credentials on every OSS request', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ retrySeconds: 1 });
    stack.oss.putObject(BUCKET, 'k.txt', 'payload');
  });
  afterEach(() => stack.close());

  const fetchObject = () => get(`${stack.baseUrl}/v1/objects/${BUCKET}/k.txt`);

  it('makes one credential fetch for 200 concurrent requests on a cold start', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, fetchObject));
    expect(results.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(stack.metadata.calls.uri).toBe(1);
    expect(stack.oss.requests).toHaveLength(200);
  });

  it('signs each request with the whole triple current at that moment, security token included', async () => {
    await fetchObject();
    const first = stack.metadata.current()!;
    const rotated = stack.metadata.rotate()!;
    stack.sts.revoke(first.accessKeyId); // the old triple stops working at OSS
    await fetchObject();
    await fetchObject();

    const seen = stack.oss.requests.map((r) => [r.accessKeyId, r.headers['x-oss-security-token'], r.status]);
    expect(seen).toEqual([
      [first.accessKeyId, first.securityToken, 200],
      [first.accessKeyId, first.securityToken, 403], // refused: InvalidAccessKeyId
      [rotated.accessKeyId, rotated.securityToken, 200], // refreshed once, retried once
      [rotated.accessKeyId, rotated.securityToken, 200],
    ]);
    expect(stack.oss.requests[1].code).toBe('InvalidAccessKeyId');
  });

  it('fails no request when the credential rotates mid-traffic', async () => {
    const statuses: number[] = [];
    const worker = async (id: number) => {
      for (let i = 0; i < 30; i += 1) {
        if (id === 0 && i === 10) {
          const old = stack.metadata.current()!;
          stack.metadata.rotate();
          stack.sts.revoke(old.accessKeyId);
        }
        statuses.push((await fetchObject()).status);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
    expect(statuses).toHaveLength(240);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const keys = new Set(stack.oss.requests.filter((r) => r.status === 200).map((r) => r.accessKeyId));
    expect(keys.size).toBe(2);
  });

  it('refreshes when OSS says the token expired, and retries once', async () => {
    await fetchObject();
    const first = stack.metadata.current()!;
    // The cloud's clock runs past the credential's expiry while the host's clock lags behind
    // (the wrapper still thinks it valid): OSS answers SecurityTokenExpired.
    stack.clock.set(first.expiresAt! + 1000);
    const res = await fetchObject();
    expect(res.status).toBe(200);
    expect(stack.oss.requests.map((r) => r.code ?? r.status)).toEqual([200, 'SecurityTokenExpired', 200]);
  });

  it('keeps serving from a valid cached credential while the metadata service is down', async () => {
    await fetchObject();
    stack.metadata.setOutage('refuse');
    const results = await Promise.all(Array.from({ length: 50 }, fetchObject));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await get(`${stack.baseUrl}/readyz`)).status).toBe(200);
  });

  it('answers 503 without a valid credential, then recovers by itself when the metadata service returns', async () => {
    stack.metadata.setOutage('http-500');
    const refused = await fetchObject();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'CredentialsUnavailable' });
    const notReady = await get(`${stack.baseUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body.toString()).detail).toMatch(/the credentials_uri credential source failed \(HTTP 500\)/);
    expect(stack.oss.requests).toHaveLength(0); // failed fast: OSS never asked

    stack.metadata.setOutage('none');
    stack.serviceClock.advance(1000); // one retry interval
    expect((await get(`${stack.baseUrl}/readyz`)).status).toBe(200);
    expect((await fetchObject()).status).toBe(200);
  });

  it('writes no secret to the log, the response or the metrics', async () => {
    await fetchObject();
    stack.metadata.rotate();
    stack.sts.revoke(stack.sts.all()[0].accessKeyId);
    await fetchObject();
    const metrics = await get(`${stack.baseUrl}/metrics`);
    const everything = [...stack.logs, metrics.body.toString()].join('\n');
    expect(stack.logs.length).toBeGreaterThan(2);
    for (const issued of stack.sts.all()) {
      expect(everything).not.toContain(issued.accessKeySecret);
      expect(everything).not.toContain(issued.securityToken);
      expect(everything).not.toContain(issued.accessKeyId);
    }
  });
});
