import request from 'supertest';
import { createApp } from '../../src/compose';
import { bearerToken, type Authenticator } from '../../src/auth/authenticator';
import type { Principal } from '../../src/auth/token-file';
import { ConfigError, loadConfig } from '../../src/config';
import { AppError } from '../../src/errors';
import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, parseCorsOrigins, type CorsOrigins } from '../../src/http/cors';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

const APP_ORIGIN = 'https://app.example.com';
const OTHER_ORIGIN = 'https://evil.example.com';
const reader: Principal = { name: 'reader', read: [{ bucket: 'bkt', prefix: '' }], downloads: [], metrics: false };
const TOKEN = 'reader-token-xxxxxxxx';

class OneToken implements Authenticator {
  authenticate(authorization: string | undefined): Principal {
    if (bearerToken(authorization) !== TOKEN) throw new AppError('Unauthorized', 'unknown', { headers: { 'WWW-Authenticate': 'Bearer' } });
    return reader;
  }
}

function setup(cors: CorsOrigins | null | undefined, options: { auth?: boolean } = {}) {
  const store = new FakeStore();
  store.put('bkt', 'k.txt', 'hello', { 'content-range': 'bytes 0-4/5' });
  const app = createApp({
    store,
    credentials: new FakeCredentials(),
    allow: [{ bucket: 'bkt', prefix: '' }],
    logger: createLogger('silent'),
    metrics: new Metrics(),
    auth: options.auth ? new OneToken() : undefined,
    cors,
  });
  return { app, store };
}

const preflight = (app: ReturnType<typeof setup>['app'], path: string, origin: string) =>
  request(app)
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'GET')
    .set('Access-Control-Request-Headers', 'authorization, range');

describe('CORS_ORIGINS', () => {
  const minimal = { OSS_REGION: 'cn-hangzhou', OSS_ALLOW: 'bkt' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('is off by default, and parses exact origins', () => {
    expect(loadConfig(minimal).corsOrigins).toBeNull();
    expect(loadConfig({ ...minimal, CORS_ORIGINS: `${APP_ORIGIN}, http://127.0.0.1:3000` }).corsOrigins).toEqual([
      APP_ORIGIN,
      'http://127.0.0.1:3000',
    ]);
    expect(loadConfig({ ...minimal, CORS_ORIGINS: '*', AUTH_MODE: 'none' }).corsOrigins).toBe('*');
  });

  it.each([
    ['a path', 'https://app.example.com/x'],
    ['a trailing slash', 'https://app.example.com/'],
    ['no scheme', 'app.example.com'],
    ['another scheme', 'ftp://app.example.com'],
    ['"null"', 'null'],
    ['* beside origins', `*, ${APP_ORIGIN}`],
  ])('refuses %s', (_name, value) => {
    expect(parseCorsOrigins(value).ok).toBe(false);
    expect(problems({ ...minimal, CORS_ORIGINS: value })).toEqual([expect.stringMatching(/^CORS_ORIGINS: /)]);
  });

  it('refuses * with caller tokens, in the one message that lists every bad variable', () => {
    expect(problems({ ...minimal, CORS_ORIGINS: '*', AUTH_TOKENS_FILE: '/etc/tokens', OSS_REGION: 'nowhere' })).toEqual([
      'OSS_REGION: must look like cn-beijing',
      'CORS_ORIGINS: * is allowed only without caller tokens (AUTH_TOKENS_FILE); list the origins instead',
    ]);
  });
});

describe('CORS on the object and listing paths', () => {
  it.each(['/v1/objects/bkt/k.txt', '/v1/objects/bkt', '/v1/objects/bkt/a/b%20c.txt'])(
    'answers a preflight for %s from a listed origin with 204 and the allowed methods and headers, without a token',
    async (path) => {
      const { app, store } = setup([APP_ORIGIN], { auth: true });
      const res = await preflight(app, path, APP_ORIGIN);
      expect(res.status).toBe(204);
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': APP_ORIGIN,
        'access-control-allow-methods': 'GET, HEAD',
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': '600',
      });
      expect(res.headers.vary).toMatch(/\bOrigin\b/);
      expect(CORS_ALLOW_HEADERS).toBe('Authorization, Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range');
      expect(store.calls).toHaveLength(0);
    },
  );

  it('adds the origin, Vary and the exposed headers to an actual response for a listed origin', async () => {
    const { app } = setup([APP_ORIGIN], { auth: true });
    const res = await request(app).get('/v1/objects/bkt/k.txt').set('Origin', APP_ORIGIN).set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-expose-headers']).toBe(CORS_EXPOSE_HEADERS);
    expect(CORS_EXPOSE_HEADERS.split(', ')).toEqual([
      'Content-Range',
      'Content-Length',
      'Accept-Ranges',
      'ETag',
      'Last-Modified',
      'Content-Disposition',
      'x-oss-hash-crc64ecma',
      'X-Request-Id',
    ]);
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
  });

  it('lets a web app read an error: a 401 to a listed origin carries the CORS headers', async () => {
    const { app } = setup([APP_ORIGIN], { auth: true });
    const res = await request(app).get('/v1/objects/bkt/k.txt').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('gives an unlisted origin no CORS header, and its preflight goes on to the 401', async () => {
    const { app } = setup([APP_ORIGIN], { auth: true });
    const pre = await preflight(app, '/v1/objects/bkt/k.txt', OTHER_ORIGIN);
    expect(pre.status).toBe(401);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const res = await request(app).get('/v1/objects/bkt/k.txt').set('Origin', OTHER_ORIGIN).set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
  });

  it('answers a listed origin with * in open mode', async () => {
    const { app } = setup('*');
    const pre = await preflight(app, '/v1/objects/bkt/k.txt', OTHER_ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    const res = await request(app).get('/v1/objects/bkt/k.txt').set('Origin', OTHER_ORIGIN);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it.each(['/healthz', '/metrics', '/v1/downloads', '/v1/objects'])('takes no part on %s: OPTIONS there stays as it was', async (path) => {
    const { app } = setup([APP_ORIGIN]);
    const res = await preflight(app, path, APP_ORIGIN);
    expect(res.status).not.toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it.each([undefined, null])('without CORS_ORIGINS (%s), OPTIONS on an object stays 405 with no CORS header', async (cors) => {
    const { app } = setup(cors);
    for (const path of ['/v1/objects/bkt/k.txt', '/v1/objects/bkt']) {
      const res = await preflight(app, path, APP_ORIGIN);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('leaves a plain OPTIONS (no Access-Control-Request-Method) from a listed origin to the 405', async () => {
    const { app } = setup([APP_ORIGIN]);
    const res = await request(app).options('/v1/objects/bkt/k.txt').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(405);
  });
});
