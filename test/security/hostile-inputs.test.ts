import { BUCKET } from '../support/stack';
import { DOWNLOAD_BODY_CASES, EXISTING_KEY, HOSTILE_CASES, type HostileCase } from './hostile-inputs';
import { rawRequest, type RawAnswer } from './support/raw-http';
import { PUBLIC_BUCKET, startSecureService, type SecureService } from './support/secure-service';

/**
 * Every row of the hostile-input table against the built service (tokens on,
 * both emulators behind it): the exact status and code, the OSS requests it
 * was due to cause and no more, and afterwards: the process still serves,
 * nothing was written in the sandbox but DOWNLOAD_ROOT's own folder, nothing
 * secret appeared in a response, a header or a log line, and the service
 * never asked the metadata side for anything but the configured credentials URI.
 */
describe('hostile inputs to every endpoint', () => {
  let s: SecureService;
  let sandboxBefore: string[];
  const answers: RawAnswer[] = [];

  beforeAll(async () => {
    s = await startSecureService();
    s.oss.putObject(BUCKET, EXISTING_KEY, 'Hello from OSS.\n'.repeat(64));
    s.oss.putObject(PUBLIC_BUCKET, 'pub/a.txt', 'public');
    s.oss.putObject(PUBLIC_BUCKET, 'private/b.txt', 'private');
    sandboxBefore = await s.sandboxListing();
  }, 30_000);
  afterAll(() => s?.close());

  it('has several hundred rows, each named once', () => {
    const names = HOSTILE_CASES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(300);
  });

  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c: HostileCase) => {
    const before = s.oss.requests.length;
    const caller = c.as === undefined ? 'reader' : c.as;
    const headers = caller === null ? c.request.headers : { Authorization: `Bearer ${s.tokens[caller]}`, ...c.request.headers };
    const answer = await rawRequest(s.service.port, { ...c.request, headers });
    answers.push(answer);

    expect({ status: answer.status, upstream: s.oss.requests.length - before }).toEqual({ status: c.status, upstream: c.upstream ?? 0 });
    if (c.code !== undefined) {
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({ status: c.status, code: c.code });
    }
    for (const [name, value] of Object.entries(c.headers ?? {})) {
      if (value === null) expect(answer.headers[name]).toBeUndefined();
      else expect(answer.headers[name]).toBe(value);
    }
  });

  it.each(DOWNLOAD_BODY_CASES.map((c) => [c.name, c] as const))('POST /v1/downloads: %s', async (_name, c) => {
    const before = s.oss.requests.length;
    const answer = await rawRequest(s.service.port, {
      method: 'POST',
      target: '/v1/downloads?wait=true',
      headers: { Authorization: `Bearer ${s.tokens.downloader}`, 'Content-Type': c.contentType ?? 'application/json' },
      body: c.body,
    });
    answers.push(answer);
    expect({ status: answer.status, upstream: s.oss.requests.length - before }).toEqual({ status: c.status, upstream: 0 });
    expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({ status: c.status, code: c.code });
  });

  describe('afterwards', () => {
    it('the process is still up and serving', async () => {
      expect(s.service.output()).not.toMatch(/uncaught|unhandled/i);
      const health = await rawRequest(s.service.port, { target: '/healthz' });
      expect(health.status).toBe(200);
      const read = await rawRequest(s.service.port, {
        target: `/v1/objects/${BUCKET}/${EXISTING_KEY}`,
        headers: { Authorization: `Bearer ${s.tokens.reader}` },
      });
      expect(read.status).toBe(200);
    });

    it('OSS was asked only for the configured buckets, at the configured endpoint', () => {
      expect(s.oss.requests.length).toBeGreaterThan(0);
      for (const r of s.oss.requests) {
        expect([BUCKET, PUBLIC_BUCKET]).toContain(r.bucket);
        expect(r.headers.host).toBe(`${r.bucket}.oss-cn-hangzhou.aliyuncs.com`);
      }
    });

    it('the metadata side saw only the configured credentials URI', () => {
      expect(s.metadata.calls).toMatchObject({ token: 0, roleList: 0, credentials: 0 });
      expect(s.metadata.calls.uri).toBeGreaterThan(0);
    });

    it('nothing was written in the sandbox (DOWNLOAD_ROOT included)', async () => {
      expect(await s.sandboxListing()).toEqual(sandboxBefore);
    });

    it('no STS secret and no caller token appears in any response, header or log line', async () => {
      const metrics = await rawRequest(s.service.port, { target: '/metrics', headers: { Authorization: `Bearer ${s.tokens.prometheus}` } });
      const seen = [...answers, metrics].map((a) => `${a.head}\n${a.body.toString('latin1')}`).join('\n') + s.service.output();
      expect(s.service.logLines().length).toBeGreaterThan(HOSTILE_CASES.length / 2);
      const secrets = [...s.sts.all().flatMap((c) => [c.accessKeyId, c.accessKeySecret, c.securityToken]), ...Object.values(s.tokens)];
      expect(secrets.length).toBeGreaterThan(4);
      for (const secret of secrets) expect(seen.includes(secret)).toBe(false);
    });
  });
});
