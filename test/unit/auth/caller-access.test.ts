import express from 'express';
import request from 'supertest';
import { callerOwner, requireDownloadPath, requireScope } from '../../../src/auth/caller-access';
import { authenticateCallers } from '../../../src/http/authenticate-callers';
import type { Authenticator } from '../../../src/auth/authenticator';
import type { Principal } from '../../../src/auth/token-file';
import { problemHandler } from '../../../src/http/problem';
import { bearer, StaticAuthenticator } from '../../support/static-authenticator';

const principal = (name: string, downloads: string[]): Principal => ({ name, read: [{ bucket: 'bkt', prefix: '' }], downloads, metrics: false });
const models = principal('models-team', ['models/']);
const data = principal('data-team', ['datasets/2024-', 'shared/data/']);
const ops = principal('ops', ['']);
const reader = principal('reader', []);

/** What the downloads route does with a body's path, behind the authentication middleware createApp installs. */
function probe(auth: Authenticator | undefined) {
  const app = express();
  app.use(express.json());
  app.use(authenticateCallers({ auth }));
  app.post('/v1/probe', (req, res) => {
    requireScope(req, 'downloads');
    requireDownloadPath(req, String(req.body.path));
    res.status(202).json({ owner: callerOwner(req) });
  });
  app.use(problemHandler);
  return app;
}

const post = (app: express.Express, caller: Principal | undefined, path: string) => {
  const req = request(app).post('/v1/probe').send({ path });
  return caller ? req.set('Authorization', bearer(caller)) : req;
};

describe('requireDownloadPath', () => {
  const app = probe(new StaticAuthenticator([models, data, ops, reader]));

  it.each([
    { caller: models, path: 'models/gpt.bin' },
    { caller: models, path: 'models/deep/er/x.bin' },
    { caller: data, path: 'datasets/2024-01.csv' },
    { caller: data, path: 'shared/data/a.parquet' },
    { caller: ops, path: 'models/gpt.bin' },
    { caller: ops, path: 'anything/at/all.txt' },
  ])('lets $caller.name write at $path, under one of its prefixes', async ({ caller, path }) => {
    const res = await post(app, caller, path);
    expect(res.status).toBe(202);
  });

  it.each([
    { caller: models, path: 'datasets/2024-01.csv' },
    { caller: models, path: 'models' },
    { caller: models, path: 'Models/gpt.bin' },
    { caller: data, path: 'models/gpt.bin' },
    { caller: data, path: 'datasets/2023-12.csv' },
    { caller: data, path: 'shared/other/a.parquet' },
  ])('refuses $caller.name at $path with 403 NotAllowed naming the token, never the token itself', async ({ caller, path }) => {
    const res = await post(app, caller, path);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      code: 'NotAllowed',
      detail: `The token "${caller.name}" may not download to this path (outside its downloads prefixes).`,
    });
    expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    expect(res.text).not.toContain('-token-xxxxxxxx');
  });

  it('keeps two tokens with different prefixes out of each other’s folders', async () => {
    const statuses = await Promise.all([
      post(app, models, 'models/a.bin'),
      post(app, models, 'datasets/2024-a.csv'),
      post(app, data, 'datasets/2024-a.csv'),
      post(app, data, 'models/a.bin'),
    ]);
    expect(statuses.map((r) => r.status)).toEqual([202, 403, 202, 403]);
  });

  it('refuses a token without any downloads scope before looking at the path', async () => {
    const res = await post(app, reader, 'models/a.bin');
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('The token "reader" may not create downloads.');
  });

  it('allows every path in open mode', async () => {
    const res = await post(probe(undefined), undefined, 'models/a.bin');
    expect(res.status).toBe(202);
  });

  it('fails closed for a request that was never authenticated', async () => {
    const undecided = express().post('/x', (req, res) => {
      requireDownloadPath(req, 'models/a.bin');
      res.end();
    });
    undecided.use(problemHandler);
    expect((await request(undecided).post('/x')).status).toBe(500);
  });
});

describe('callerOwner', () => {
  it('is the token name for each of three token callers, and (open) with no tokens', async () => {
    const app = probe(new StaticAuthenticator([models, data, ops]));
    const owners = await Promise.all([models, data, ops].map((p) => post(app, p, 'models/x')));
    expect(owners.map((r) => [r.status, r.body.owner])).toEqual([
      [202, 'models-team'],
      [403, undefined],
      [202, 'ops'],
    ]);
    expect((await post(app, data, 'shared/data/x')).body.owner).toBe('data-team');
    expect((await post(probe(undefined), undefined, 'x')).body.owner).toBe('(open)');
  });

  it('fails closed on an open path (no token there) and for an unauthenticated request', async () => {
    const app = express();
    app.use(authenticateCallers({ auth: new StaticAuthenticator([ops]) }));
    app.get('/healthz', (req, res) => void res.json({ owner: callerOwner(req) }));
    app.use(problemHandler);
    expect((await request(app).get('/healthz')).status).toBe(401);
    const bare = express().get('/x', (req, res) => void res.json({ owner: callerOwner(req) }));
    bare.use(problemHandler);
    expect((await request(bare).get('/x')).status).toBe(500);
  });
});
