import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { bodyOf, jsonBody } from '../../src/http/json-body';
import { problemHandler } from '../../src/http/problem';
import { downloadPath } from '../../src/downloads/download-path';
import { DOWNLOAD_BODY_CASES } from '../security/hostile-inputs';

/**
 * The body pieces the downloads route is meant to use, behind a probe route
 * with the body the contract names ({bucket, key, path, overwrite?}). The
 * rows are the ones test/security will send to POST /v1/downloads once it exists.
 */
const downloadBody = z.strictObject({
  bucket: z.string().min(3).max(63),
  key: z.string().min(1).max(1023),
  path: downloadPath,
  overwrite: z.boolean().optional(),
});

function probe() {
  const app = express();
  app.use((req, _res, next) => {
    (req as unknown as { id: string }).id = 'test'; // the request id (request-log.ts), which problem+json carries
    next();
  });
  app.post('/probe', ...jsonBody(16_384), (req, res) => {
    res.status(202).json(bodyOf(req, downloadBody));
  });
  app.use(problemHandler);
  return app;
}

describe('jsonBody + bodyOf', () => {
  it('accepts a well-formed body', async () => {
    const res = await request(probe())
      .post('/probe')
      .set('Content-Type', 'application/json')
      .send('{"bucket":"demo-bucket","key":"k","path":"a/b.bin","overwrite":true}');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ bucket: 'demo-bucket', key: 'k', path: 'a/b.bin', overwrite: true });
  });

  it.each(DOWNLOAD_BODY_CASES.map((c) => [c.name, c] as const))('answers %s as the table says', async (_name, c) => {
    const res = await request(probe())
      .post('/probe')
      .set('Content-Type', c.contentType ?? 'application/json')
      .send(c.body);
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(c.code);
  });
});
