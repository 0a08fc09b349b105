import http from 'node:http';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * One layer of the small-object path, alone in its process, for bench/layers/run.ts:
 * the same 4 KiB body from memory, so the CPU per request is the layer's own
 * (no OSS client, no emulator).
 *
 * LAYER=node      Node http, no framework
 * LAYER=express   Express 5 + helmet, one route, `pipeline`
 * LAYER=app       createApp from the build in LAYER_DIST (dist/, or a copy of an older build):
 *                 every middleware, an in-memory store, the CRC check on, the request log to stdout
 *                 (LAYER_LOG_LEVEL=silent leaves the log line out, to see what it costs)
 * LAYER=store     Node http in front of the OSS store from LAYER_DIST (signing and the OSS client,
 *                 V4, OSS_SIGNATURE_VERSION-like LAYER_SIGNATURE_VERSION), asking LAYER_UPSTREAM
 * LAYER=upstream  what LAYER=store asks: the 4 KiB body to any request, no signature check
 *
 * Listens on 127.0.0.1:PORT; answers /healthz once ready (lib/processes.ts startService).
 */

const BODY = Buffer.alloc(4096, 7);
const HEADERS = {
  'content-type': 'application/octet-stream',
  'content-length': String(BODY.length),
  etag: '"0123456789ABCDEF0123456789ABCDEF"',
  'accept-ranges': 'bytes',
  'x-oss-request-id': '5C1B138A109F4E405B2D8AEF',
};

/** A fresh one-chunk body per request, as an upstream response would be. */
function body(): Readable {
  return new Readable({
    read() {
      this.push(BODY);
      this.push(null);
    },
  });
}

function listen(server: http.Server): void {
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

async function main(): Promise<void> {
  const variant = process.env.LAYER;
  const distDir = process.env.LAYER_DIST;
  if (variant === 'node') {
    listen(
      http.createServer((req, res) => {
        if (req.url === '/healthz') return void res.end('ok');
        res.writeHead(200, HEADERS);
        body().pipe(res);
      }),
    );
    return;
  }
  if (variant === 'express') {
    const express = (await import('express')).default;
    const helmet = (await import('helmet')).default;
    const app = express();
    app.use(helmet());
    app.get('/healthz', (_req, res) => void res.end('ok'));
    app.get('/v1/objects/:bucket/*key', async (_req, res) => {
      res.status(200);
      for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
      await pipeline(body(), res).catch(() => res.destroy());
    });
    listen(http.createServer(app));
    return;
  }
  if (variant === 'app') {
    const dist = resolve(distDir ?? join(__dirname, '..', '..', 'dist'));
    /* eslint-disable @typescript-eslint/no-require-imports */
    // createApp moved from app.js to compose.js (the composition root); an older build (LAYERS_BEFORE_DIST) has it in app.js.
    const createApp = require(join(dist, 'src', 'compose.js')).createApp ?? require(join(dist, 'src', 'app.js')).createApp;
    const { createLogger } = require(join(dist, 'src', 'logger.js'));
    const { Metrics } = require(join(dist, 'src', 'metrics.js'));
    const { Lifecycle } = require(join(dist, 'src', 'lifecycle.js'));
    const { createHttpServer } = require(join(dist, 'src', 'http', 'http-server.js'));
    const { DEFAULT_HTTP_LIMITS } = require(join(dist, 'src', 'http', 'limits.js'));
    const { crc64 } = require(join(dist, 'src', 'crc64-choice.js'));
    const headers = { ...HEADERS, 'x-oss-hash-crc64ecma': String(crc64(BODY)) };
    const store = {
      getObject: async () => ({ status: 200, headers, body: body() }),
      headObject: async () => ({ status: 200, headers, body: null }),
      listObjects: async () => ({ objects: [], prefixes: [], nextCursor: null }),
    };
    const credentials = {
      getCredentials: async () => ({ accessKeyId: 'STS.x', accessKeySecret: 'x', securityToken: 'x', expiresAt: Date.now() + 6 * 3600_000 }),
      refreshAfterRejection: async () => null,
      status: () => ({ source: 'bench', valid: true, expiresAt: Date.now() + 6 * 3600_000 }),
    };
    const logger = createLogger(process.env.LAYER_LOG_LEVEL ?? 'info');
    const app = createApp({
      store,
      credentials,
      allow: [{ bucket: 'bench-bucket', prefix: '' }],
      logger,
      metrics: new Metrics(),
      lifecycle: new Lifecycle({ graceMs: 0, drainMs: 0, logger }),
      verifyCrc64: true,
    });
    listen(createHttpServer(app, DEFAULT_HTTP_LIMITS));
    return;
  }
  if (variant === 'upstream') {
    listen(
      http.createServer((req, res) => {
        res.writeHead(200, HEADERS);
        res.end(req.method === 'HEAD' ? undefined : BODY);
      }),
    );
    return;
  }
  if (variant === 'store') {
    const dist = resolve(distDir ?? join(__dirname, '..', '..', 'dist'));
    const { AliOssStore } = require(join(dist, 'src', 'oss', 'ali-oss-store.js'));
    const triple = { accessKeyId: 'STS.x', accessKeySecret: 'x', securityToken: 'x', expiresAt: null };
    const store = new AliOssStore({
      credentials: {
        getCredentials: async () => triple,
        refreshAfterRejection: async () => null,
        status: () => ({ source: 'bench', valid: true, expiresAt: null }),
      },
      region: 'cn-beijing',
      endpoint: process.env.LAYER_UPSTREAM,
      signatureVersion: process.env.LAYER_SIGNATURE_VERSION === '1' ? 1 : 4,
      requestTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
    });
    listen(
      http.createServer((req, res) => {
        if (req.url === '/healthz') return void res.end('ok');
        store.getObject({ bucket: 'bench-bucket', key: 'small/4k.bin', preconditions: {} }).then(
          (upstream: { headers: Record<string, string>; body: Readable }) => {
            res.writeHead(200, HEADERS);
            upstream.body.pipe(res);
          },
          () => res.destroy(),
        );
      }),
    );
    return;
  }
  throw new Error(`unknown LAYER ${variant}: node, express, app or store (with LAYER_DIST), upstream`);
}

void main();
