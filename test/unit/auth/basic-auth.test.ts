import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../../src/compose';
import { bearerToken, TokenFileAuthenticator } from '../../../src/auth/authenticator';
import { formatTokenLine } from '../../../src/auth/token-file';
import { generateToken, hashToken } from '../../../src/auth/tokens';
import { AppError } from '../../../src/errors';
import { createLogger } from '../../../src/logger';
import { Metrics } from '../../../src/metrics';
import { FakeCredentials } from '../../support/fake-credentials';
import { FakeStore } from '../../support/fake-store';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const BEARER_INVALID = 'Bearer realm="oss-download-service", error="invalid_token"';
const BASIC = 'Basic realm="oss-download-service"';

/** Each line of a header as sent (Node joins repeated lines with ", " in `headers`). */
function headerLines(res: request.Response, name: string): string[] {
  const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  return raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name ? [raw[i + 1]] : []));
}

function challengeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError && err.status === 401) return err.headers['WWW-Authenticate'];
    throw err;
  }
  return undefined;
}

describe('bearerToken with HTTP Basic (the token as the password)', () => {
  const token = generateToken();

  it.each([
    ['any user name', basic('alice', token)],
    ['an empty user name', basic('', token)],
    ['the scheme in another case', basic('x', token).replace('Basic', 'bAsIc')],
  ])('reads the token from %s', (_name, header) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    ['no colon', `Basic ${Buffer.from(token).toString('base64')}`],
    ['an empty password', basic('alice', '')],
    ['a short password', basic('alice', 'pass')],
    ['a password that is no token (a colon in it)', basic('alice', `${token}:x`)],
    ['not base64', 'Basic ***'],
    ['the scheme alone', 'Basic'],
    ['two credentials', `${basic('a', token)} ${basic('b', token)}`],
  ])('answers 401 invalid_token for %s', (_name, header) => {
    expect(challengeOf(() => bearerToken(header))).toBe(BEARER_INVALID);
  });
});

describe('Basic through the app', () => {
  let dir: string;
  let app: ReturnType<typeof createApp>;
  const logged: string[] = [];
  const token = generateToken();
  const other = generateToken();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'basic-'));
    const file = path.join(dir, 'tokens');
    await writeFile(file, `${formatTokenLine('browser-user', hashToken(token), ['read=bkt/pub/'])}\n`);
    const store = new FakeStore();
    store.put('bkt', 'pub/a.txt', 'hello');
    store.put('bkt', 'private/b.txt', 'secret');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('trace', sink);
    app = createApp({
      store,
      credentials: new FakeCredentials(),
      allow: [{ bucket: 'bkt', prefix: '' }],
      logger,
      metrics: new Metrics(),
      auth: await TokenFileAuthenticator.load(file, logger),
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads an object in scope with the token as the Basic password, logged under the token name and never the token', async () => {
    const res = await request(app).get('/v1/objects/bkt/pub/a.txt').set('Authorization', basic('whoever', token));
    expect(res.status).toBe(200);
    expect(res.text).toBe('hello');
    const line = logged
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'request completed' || (l.req as { url?: string } | undefined)?.url === '/v1/objects/bkt/pub/a.txt');
    expect(line).toMatchObject({ caller: 'browser-user' });
    const everything = logged.join('');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(Buffer.from(`whoever:${token}`).toString('base64'));
  });

  it('applies the token scopes to Basic as to Bearer', async () => {
    const res = await request(app).get('/v1/objects/bkt/private/b.txt').set('Authorization', basic('x', token));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('NotAllowed');
  });

  it('offers Basic beside Bearer, each on its own header line, when a 401 goes to a request preferring HTML', async () => {
    for (const authorization of [undefined, basic('x', other)]) {
      const req = request(app).get('/v1/objects/bkt?prefix=pub/').set('Accept', BROWSER_ACCEPT);
      const res = await (authorization ? req.set('Authorization', authorization) : req);
      expect(res.status).toBe(401);
      const challenges = headerLines(res, 'www-authenticate');
      expect(challenges).toHaveLength(2);
      expect(challenges[0]).toMatch(/^Bearer realm="oss-download-service"/);
      expect(challenges[1]).toBe(BASIC);
      expect(res.body).toMatchObject({ code: 'Unauthorized', status: 401 });
    }
  });

  it.each([
    ['no Accept', undefined],
    ['*/*', '*/*'],
    ['application/json', 'application/json'],
  ])('challenges only with Bearer for %s (API clients are not prompted)', async (_name, accept) => {
    const req = request(app).get('/v1/objects/bkt?prefix=pub/');
    const res = await (accept ? req.set('Accept', accept) : req.unset('Accept'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="oss-download-service"');
  });

  it('serves /favicon.ico without a token (browsers never send one there), and nothing else beside it', async () => {
    const icon = await request(app).get('/favicon.ico');
    expect(icon.status).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.body.toString()).toMatch(/^<svg /);
    expect((await request(app).get('/favicon.png')).status).toBe(401);
    expect((await request(app).post('/favicon.ico')).status).toBe(401);
  });
});
