import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { killAllServices, startService } from '../support/service-process';
import { get } from '../support/stack';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');

/**
 * What the Dockerfile's runtime stage does, without a container engine: a clean folder with
 * package.json, package-lock.json and the built dist/, `npm ci --omit=dev`, `npm run prune:koffi`,
 * then `node dist/src/server.js`. A runtime import of a devDependency fails here.
 */
describe('the production install (Dockerfile runtime stage)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oss-download-prod-'));

  afterAll(() => {
    killAllServices();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm ci --omit=dev plus dist/ starts the service with the liblzma CRC-64, answers /healthz, and stops on SIGTERM with exit 0', async () => {
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(dir, file));
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: process.env });
    await run('npm', ['run', 'prune:koffi'], { cwd: dir, env: process.env });

    const service = await startService(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_ENV: 'production',
        OSS_REGION: 'cn-hangzhou',
        OSS_ENDPOINT: 'http://127.0.0.1:9', // never called: only health and metrics are asked
        OSS_ALLOW: 'any-bucket',
        CREDENTIALS_SOURCE: 'access_key', // no credential endpoint outside the namespace tier
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-local-development',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'local-development-secret',
        SHUTDOWN_GRACE_SECONDS: '0',
        AUTH_MODE: 'none',
      },
      { root: dir },
    );
    const health = await get(`${service.baseUrl}/healthz`);
    const metrics = await get(`${service.baseUrl}/metrics`);
    const exit = await service.stop('SIGTERM');

    expect(readdirSync(join(dir, 'node_modules', 'koffi', 'build', 'koffi'))).toEqual([`${process.platform}_${process.arch}`]);
    expect(['jest', 'typescript', 'ts-jest', 'tsx', 'supertest'].filter((dev) => existsSync(join(dir, 'node_modules', dev)))).toEqual([]);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body.toString())).toEqual({ status: 'ok' });
    expect(metrics.status).toBe(200);
    // koffi's prebuilt binary and the system's liblzma load from a production install: the fast CRC-64 runs.
    expect(metrics.body.toString()).toMatch(/^crc64_implementation\{impl="liblzma"\} 1$/m);
    expect(service.logLines().filter((line) => line.crc64 !== undefined)).toEqual([
      expect.objectContaining({ level: 30, crc64: 'liblzma', msg: 'CRC-64: liblzma lzma_crc64 through koffi' }),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
  }, 180_000);
});
