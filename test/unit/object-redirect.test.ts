import request from 'supertest';
import { parseAllowList } from '../../src/access-policy';
import { createApp } from '../../src/compose';
import { bearerToken, type Authenticator } from '../../src/auth/authenticator';
import type { Principal } from '../../src/auth/token-file';
import { AppError } from '../../src/errors';
import { attachmentHeader } from '../../src/http/object-headers';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import type { ObjectUrlSigner, PresignedUrl, PresignRequest } from '../../src/oss/object-url-signer';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

/** Records what it was asked to sign; answers a recognisable URL, or fails as the test says. */
class RecordingSigner implements ObjectUrlSigner {
  readonly calls: PresignRequest[] = [];
  failWith: AppError | null = null;
  async presignGet(req: PresignRequest): Promise<PresignedUrl> {
    this.calls.push(req);
    if (this.failWith) throw this.failWith;
    return { url: `https://${req.bucket}.oss.example/${encodeURI(req.key)}?signed=1`, expiresAt: 0 };
  }
}

class StaticAuthenticator implements Authenticator {
  constructor(private readonly principals: Principal[]) {}
  authenticate(authorization: string | undefined): Principal {
    const found = this.principals.find((p) => `${p.name}-token-xxxxxxxx` === bearerToken(authorization));
    if (!found) throw new AppError('Unauthorized', 'unknown', { headers: { 'WWW-Authenticate': 'Bearer' } });
    return found;
  }
}

const reader: Principal = { name: 'reader', read: [{ bucket: 'bkt', prefix: 'pub/' }], downloads: [], metrics: false };
const READER = 'Bearer reader-token-xxxxxxxx';

function setup(options: { delivery?: 'proxy' | 'redirect'; redirect?: boolean; auth?: boolean } = {}) {
  const store = new FakeStore();
  store.put('bkt', 'pub/a.txt', 'hello');
  store.put('bkt', 'private/b.txt', 'secret');
  const signer = new RecordingSigner();
  const allow = parseAllowList('bkt/pub/,bkt/private/');
  if (!allow.ok) throw new Error(allow.error);
  const app = createApp({
    store,
    credentials: new FakeCredentials(),
    allow: allow.value,
    logger: createLogger('silent'),
    metrics: new Metrics(),
    auth: options.auth ? new StaticAuthenticator([reader]) : undefined,
    redirect: options.redirect === false ? undefined : { signer, defaultDelivery: options.delivery ?? 'proxy' },
  });
  return { app, store, signer };
}

describe('GET /v1/objects/:bucket/*key in redirect mode', () => {
  it('answers 307 with the signed URL, Cache-Control: no-store and no body, without asking OSS for the object', async () => {
    const { app, store, signer } = setup();
    const res = await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=true');

    expect(res.status).toBe(307);
    expect(res.headers.location).toBe('https://bkt.oss.example/pub/a.txt?signed=1');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text ?? '').toBe('');
    expect(signer.calls).toEqual([{ bucket: 'bkt', key: 'pub/a.txt', contentDisposition: undefined }]);
    expect(store.calls).toEqual([]);
  });

  it('passes ?download=1 and ?filename= on as the Content-Disposition to sign', async () => {
    const { app, signer } = setup();
    await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=1&download=1');
    await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=1&filename=r%C3%A9sum%C3%A9.txt');

    // The header a proxied GET would send: OSS answers the followed URL with it.
    expect(signer.calls.map((c) => c.contentDisposition)).toEqual([
      attachmentHeader('pub/a.txt', undefined),
      attachmentHeader('pub/a.txt', 'résumé.txt'),
    ]);
    expect(signer.calls[1].contentDisposition).toContain(`filename*=UTF-8''r%C3%A9sum%C3%A9.txt`);
  });

  it('streams as before without ?redirect, and with ?redirect=false or 0', async () => {
    const { app, signer } = setup();
    for (const query of ['', '?redirect=false', '?redirect=0']) {
      const res = await request(app).get(`/v1/objects/bkt/pub/a.txt${query}`);
      expect([query, res.status, res.text, res.headers.location]).toEqual([query, 200, 'hello', undefined]);
    }
    expect(signer.calls).toEqual([]);
  });

  it('with OBJECT_DELIVERY=redirect: redirects a plain GET, streams ?redirect=false, answers HEAD itself', async () => {
    const { app, signer, store } = setup({ delivery: 'redirect' });
    const plain = await request(app).get('/v1/objects/bkt/pub/a.txt');
    const proxied = await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=false');
    const head = await request(app).head('/v1/objects/bkt/pub/a.txt?redirect=true');

    expect([plain.status, plain.headers.location]).toEqual([307, 'https://bkt.oss.example/pub/a.txt?signed=1']);
    expect([proxied.status, proxied.text]).toEqual([200, 'hello']);
    expect([head.status, head.headers.location, head.headers['content-length']]).toEqual([200, undefined, '5']);
    expect(signer.calls).toHaveLength(1);
    expect(store.calls.map((c) => c.method)).toEqual(['GET', 'HEAD']);
  });

  it('never signs for a refused request: no token, out of scope, outside OSS_ALLOW, a dot segment, a bad flag', async () => {
    const { app, signer, store } = setup({ auth: true });
    const answers = await Promise.all([
      request(app).get('/v1/objects/bkt/pub/a.txt?redirect=true'),
      request(app).get('/v1/objects/bkt/private/b.txt?redirect=true').set('Authorization', READER),
      request(app).get('/v1/objects/other-bkt/pub/a.txt?redirect=true').set('Authorization', READER),
      request(app).get('/v1/objects/bkt/pub/%2e%2e/private/b.txt?redirect=true').set('Authorization', READER),
      request(app).get('/v1/objects/bkt/pub/a.txt?redirect=yes').set('Authorization', READER),
    ]);

    expect(answers.map((r) => [r.status, r.body.code, r.headers.location])).toEqual([
      [401, 'Unauthorized', undefined],
      [403, 'NotAllowed', undefined],
      [403, 'NotAllowed', undefined],
      [400, 'InvalidRequest', undefined],
      [400, 'InvalidRequest', undefined],
    ]);
    expect(signer.calls).toEqual([]);
    expect(store.calls).toEqual([]);
  });

  it('signs for a caller in scope', async () => {
    const { app, signer } = setup({ auth: true });
    const res = await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=true').set('Authorization', READER);

    expect(res.status).toBe(307);
    expect(signer.calls).toHaveLength(1);
  });

  it('answers problem+json without a Location when signing fails (no valid credential)', async () => {
    const { app, signer } = setup();
    signer.failWith = new AppError('CredentialsUnavailable', 'No valid OSS credential.');
    const res = await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=true');

    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('CredentialsUnavailable');
    expect(res.headers.location).toBeUndefined();
  });

  it('refuses ?redirect=true where no signer was given, and streams otherwise', async () => {
    const { app } = setup({ redirect: false });
    const asked = await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=true');
    const plain = await request(app).get('/v1/objects/bkt/pub/a.txt?redirect=false');

    expect([asked.status, asked.body.code]).toEqual([400, 'InvalidRequest']);
    expect([plain.status, plain.text]).toEqual([200, 'hello']);
  });
});
