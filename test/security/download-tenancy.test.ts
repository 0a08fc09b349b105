import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sideFilesOf } from '../../src/downloads/download-path';
import { BUCKET, startEmulators } from '../support/stack';
import { loopbackServiceEnv, startService } from '../support/service-process';
import { startSecureService, type CallerName, type SecureService } from './support/secure-service';

/**
 * Downloads as a shared service, tried as a hostile caller and a hostile
 * local writer would: jobs belong to their caller, and nothing a caller sends
 * or a local writer plants under DOWNLOAD_ROOT makes the service write
 * outside it, hang, or answer 500.
 */

// Each test starts services or runs dozens of jobs on a shared 2-core machine: a bound against hangs, not a timing assertion.
jest.setTimeout(60_000);

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe('download jobs belong to their caller', () => {
  let s: SecureService;
  beforeAll(async () => {
    s = await startSecureService({ DOWNLOAD_CONCURRENCY: '2' });
    s.oss.putObject(BUCKET, 'small.txt', 'small');
  });
  afterAll(() => s.close());

  const call = async (caller: CallerName, method: string, url: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${s.service.baseUrl}${url}`, {
      method,
      headers: { Authorization: `Bearer ${s.tokens[caller]}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  /** A job that stays running: its object stalls after the first bytes until the job is canceled. */
  async function runningJob(caller: CallerName, key: string): Promise<string> {
    s.oss.putGeneratedObject(BUCKET, key, 64 * 1024, 3);
    s.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 1000, match: { key } });
    const posted = await call(caller, 'POST', '/v1/downloads', { bucket: BUCKET, key, path: `${caller}/${key}` });
    expect(posted.status).toBe(202);
    return String(posted.body.id);
  }

  it("lists, shows and cancels only the caller's own jobs; another caller's id is 404 like an unknown one", async () => {
    const a = await runningJob('downloader', 'a-stalls.bin');
    const b = await runningJob('downloader-b', 'b-stalls.bin');

    const listA = await call('downloader', 'GET', '/v1/downloads');
    const listB = await call('downloader-b', 'GET', '/v1/downloads');
    const listC = await call('downloader-c', 'GET', '/v1/downloads');
    expect((listA.body.jobs as { id: string }[]).map((j) => j.id)).toEqual([a]);
    expect((listB.body.jobs as { id: string }[]).map((j) => j.id)).toEqual([b]);
    expect(listC.body.jobs).toEqual([]);

    const unknown = await call('downloader-b', 'GET', '/v1/downloads/00000000-0000-4000-8000-000000000000');
    const foreign = await call('downloader-b', 'GET', `/v1/downloads/${a}`);
    expect(foreign.status).toBe(404);
    expect({ ...foreign.body, detail: undefined, requestId: undefined }).toEqual({ ...unknown.body, detail: undefined, requestId: undefined });

    expect((await call('downloader-c', 'DELETE', `/v1/downloads/${a}`)).status).toBe(404);
    expect((await call('downloader', 'GET', `/v1/downloads/${a}`)).body.state).toBe('running');

    const canceled = await call('downloader', 'DELETE', `/v1/downloads/${a}`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.state).toBe('canceled');
    expect((await call('downloader-b', 'DELETE', `/v1/downloads/${b}`)).body.state).toBe('canceled');
  });

  it("does not hand out another caller's identical job: the second caller gets 409", async () => {
    const a = await runningJob('downloader', 'same.bin');
    const again = await call('downloader', 'POST', '/v1/downloads', { bucket: BUCKET, key: 'same.bin', path: 'downloader/same.bin' });
    expect([again.status, again.body.id]).toEqual([202, a]);
    const other = await call('downloader-b', 'POST', '/v1/downloads', { bucket: BUCKET, key: 'same.bin', path: 'downloader/same.bin' });
    expect(other.status).toBe(409);
    expect(other.body.id).toBeUndefined();
    await call('downloader', 'DELETE', `/v1/downloads/${a}`);
  });

  it('lets a downloads=PREFIX token create jobs and overwrite files only under its prefixes (403, nothing created, elsewhere)', async () => {
    const inside = await call('models-writer', 'POST', '/v1/downloads?wait=true', { bucket: BUCKET, key: 'small.txt', path: 'models/v1/small.txt' });
    const second = await call('models-writer', 'POST', '/v1/downloads?wait=true', { bucket: BUCKET, key: 'small.txt', path: 'cache/m-1.txt' });
    expect([inside.status, second.status]).toEqual([201, 201]);
    const placed = await call('downloader', 'POST', '/v1/downloads?wait=true', { bucket: BUCKET, key: 'small.txt', path: 'shared/theirs.txt' });
    expect(placed.status).toBe(201);
    writeFileSync(path.join(s.downloadRoot, 'shared/theirs.txt'), 'their file');
    for (const target of ['shared/theirs.txt', 'modelsx/a.txt', 'cache/other.txt', 'other/new/file.txt']) {
      const res = await call('models-writer', 'POST', '/v1/downloads?wait=true', { bucket: BUCKET, key: 'small.txt', path: target, overwrite: true });
      expect([target, res.status, res.body.code]).toEqual([target, 403, 'NotAllowed']);
    }
    expect(readFileSync(path.join(s.downloadRoot, 'shared/theirs.txt'), 'utf8')).toBe('their file');
    expect(existsSync(path.join(s.downloadRoot, 'other'))).toBe(false);
    expect(existsSync(path.join(s.downloadRoot, 'modelsx'))).toBe(false);
  });

  it('refuses a key with dot segments as the object routes do, without asking OSS', async () => {
    s.oss.resetCounters();
    for (const key of ['pub/../secret/s.txt', './small.txt', 'a/./b', 'a/..']) {
      const res = await call('downloader', 'POST', '/v1/downloads?wait=true', { bucket: BUCKET, key, path: 'dots.txt' });
      expect([key, res.status, res.body.code]).toEqual([key, 400, 'InvalidRequest']);
    }
    expect(s.oss.requests).toEqual([]);
  });

  it('refuses lone surrogates in a path or key with 400: two strings that would be one file on disk', async () => {
    // JSON.stringify writes a lone surrogate as a \\udXXX escape, which the service's JSON parser reads back as one.
    for (const body of [
      { bucket: BUCKET, key: 'small.txt', path: 'model\ud800.bin' },
      { bucket: BUCKET, key: 'small.txt', path: 'model\udfff.bin' },
      { bucket: BUCKET, key: 'small\ud800.txt', path: 'fine.bin' },
    ]) {
      const res = await call('downloader', 'POST', '/v1/downloads?wait=true', body);
      expect([res.status, res.body.code]).toEqual([400, 'InvalidRequest']);
    }
  });

  it('answers every file name length from 225 to 260 bytes with 201 or 400, never 500', async () => {
    const statuses = new Map<number, number>();
    for (let length = 225; length <= 260; length += 1) {
      const res = await call('downloader', 'POST', '/v1/downloads?wait=true', {
        bucket: BUCKET,
        key: 'small.txt',
        path: `lengths/${'n'.repeat(length)}`,
      });
      statuses.set(length, res.status);
    }
    for (const [length, status] of statuses) expect([length, status]).toEqual([length, length <= 231 ? 201 : 400]);
  });

  it('removes the folders a failed job created', async () => {
    const res = await call('downloader', 'POST', '/v1/downloads?wait=true', { bucket: BUCKET, key: 'no-such-key', path: 'made/for/nothing.bin' });
    expect(res.status).toBe(404);
    expect(existsSync(path.join(s.downloadRoot, 'made'))).toBe(false);
  });

  it('reads JSON_BODY_LIMIT_BYTES for the download body (the default 16 KiB here)', async () => {
    const res = await call('downloader', 'POST', '/v1/downloads', { bucket: BUCKET, key: 'small.txt', path: 'p', pad: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
  });
});

describe('a hostile tree under DOWNLOAD_ROOT', () => {
  let s: SecureService;
  let outside: string;
  beforeAll(async () => {
    s = await startSecureService({ DOWNLOAD_CONCURRENCY: '1', MAX_DOWNLOADS_PER_TOKEN: '64' });
    s.oss.putObject(BUCKET, 'payload.txt', 'payload');
    outside = await mkdtemp(path.join(tmpdir(), 'oss-download-outside-'));
    writeFileSync(path.join(outside, 'victim'), 'untouched');
  });
  afterAll(async () => {
    await s.close();
    await rm(outside, { recursive: true, force: true });
  });

  const post = async (body: unknown): Promise<Answer> => {
    const res = await fetch(`${s.service.baseUrl}/v1/downloads?wait=true`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.tokens.downloader}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const outsideUntouched = () => {
    expect(readdirSync(outside)).toEqual(['victim']);
    expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('untouched');
  };

  it.each(['temp', 'checkpoint', 'checkpointNext'] as const)('never writes through a symlink planted at the %s side file', async (side) => {
    const folder = path.join(s.downloadRoot, `symlink-${side}`);
    mkdirSync(folder, { recursive: true });
    symlinkSync(path.join(outside, 'victim'), path.join(folder, sideFilesOf('f.txt')[side]));
    const res = await post({ bucket: BUCKET, key: 'payload.txt', path: `symlink-${side}/f.txt` });
    expect([201, 409]).toContain(res.status);
    if (res.status === 201) expect(readFileSync(path.join(folder, 'f.txt'), 'utf8')).toBe('payload');
    outsideUntouched();
  });

  it.each(['temp', 'checkpoint', 'checkpointNext'] as const)(
    'fails or finishes at once with a FIFO at the %s side file, and another job behind it still runs',
    async (side) => {
      const folder = path.join(s.downloadRoot, `fifo-${side}`);
      mkdirSync(folder, { recursive: true });
      execFileSync('mkfifo', [path.join(folder, sideFilesOf('f.txt')[side])]);
      // DOWNLOAD_CONCURRENCY=1: a job stuck on the FIFO would keep the next one queued until the fetch times out.
      const [fifoJob, next] = await Promise.all([
        post({ bucket: BUCKET, key: 'payload.txt', path: `fifo-${side}/f.txt` }),
        post({ bucket: BUCKET, key: 'payload.txt', path: `after-fifo-${side}.txt` }),
      ]);
      expect([201, 409]).toContain(fifoJob.status);
      expect(next.status).toBe(201);
    },
  );

  it('refuses a FIFO at the target itself with 400', async () => {
    execFileSync('mkfifo', [path.join(s.downloadRoot, 'target-fifo')]);
    const res = await post({ bucket: BUCKET, key: 'payload.txt', path: 'target-fifo', overwrite: true });
    expect(res.status).toBe(400);
  });

  /** Swaps the new folder `name` under the root with a symlink to outside, in a tight loop until `stop`, which resolves to the number of swaps. */
  async function swapping(name: string): Promise<{ stop(): Promise<number> }> {
    const folder = path.join(s.downloadRoot, name);
    mkdirSync(folder);
    symlinkSync(outside, path.join(s.downloadRoot, `${name}-link`));
    const swapper = spawn('python3', ['-c', EXCHANGE_LOOP, folder, path.join(s.downloadRoot, `${name}-link`), '20'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const ready = new Promise<void>((resolve) =>
      swapper.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('swapping\n')) resolve();
      }),
    );
    const swaps = new Promise<number>((resolve) => swapper.on('exit', () => resolve(Number(out.replace('swapping\n', '').trim()))));
    await ready;
    return {
      stop() {
        swapper.kill('SIGTERM');
        return swaps;
      },
    };
  }

  it('writes nothing outside the root while a folder is swapped with a symlink to outside in a tight loop (renameat2 RENAME_EXCHANGE)', async () => {
    const swapper = await swapping('swapped');
    try {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) => post({ bucket: BUCKET, key: 'payload.txt', path: `swapped/file-${i}.txt`, overwrite: true })),
      );
      for (const answer of answers) expect([201, 400, 409]).toContain(answer.status);
    } finally {
      expect(await swapper.stop()).toBeGreaterThan(0);
    }
    outsideUntouched();
  });

  it('writes nothing outside the root from a prefix job, whose folders stay open for the job, while its folder is swapped in a tight loop', async () => {
    for (let i = 0; i < 30; i++) s.oss.putObject(BUCKET, `swap-prefix/sub/file-${i}.txt`, `file ${i}`);
    const swapper = await swapping('swapped-prefix');
    try {
      for (let run = 0; run < 3; run++) {
        const answer = await post({ bucket: BUCKET, prefix: 'swap-prefix/', path: 'swapped-prefix', overwrite: true });
        expect([201, 400, 502]).toContain(answer.status);
      }
    } finally {
      expect(await swapper.stop()).toBeGreaterThan(0);
    }
    outsideUntouched();
  });
});

/** Swaps two paths with renameat2(RENAME_EXCHANGE) until killed or for argv[3] seconds; prints how many swaps it made. */
const EXCHANGE_LOOP = `
import ctypes, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, limit = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
count, end = 0, time.time() + limit
def stop(*_):
    print(count, flush=True); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print('swapping', flush=True)
while time.time() < end:
    if libc.renameat2(-100, a, -100, b, 2) == 0:
        count += 1
stop()
`;

describe('DOWNLOAD_ROOT at start', () => {
  it.each(['0777', '0770', '0757'])('refuses a root with mode %s (writable by group or others), exit 2 with one clear line', async (mode) => {
    const sandbox = await mkdtemp(path.join(tmpdir(), 'oss-download-root-mode-'));
    const emulators = await startEmulators();
    try {
      const root = path.join(sandbox, 'downloads');
      mkdirSync(root);
      chmodSync(root, Number.parseInt(mode, 8));
      const env = loopbackServiceEnv(emulators.oss.endpoint, BUCKET, { DOWNLOAD_ROOT: root });
      await expect(startService(env)).rejects.toThrow(/exited \(2\)[\s\S]*DOWNLOAD_ROOT: .*writable by group or others.*DOWNLOAD_ROOT_SHARED=true/);
      const shared = await startService({ ...env, DOWNLOAD_ROOT_SHARED: 'true' });
      await shared.waitForLog(
        (l) => typeof l.msg === 'string' && /DOWNLOAD_ROOT: .*DOWNLOAD_ROOT_SHARED=true accepts it/.test(l.msg) && l.level === 40,
      );
      await shared.stop();
    } finally {
      await Promise.all([emulators.oss.close(), emulators.metadata.close()]);
      await rm(sandbox, { recursive: true, force: true });
    }
  });

  const asRoot = process.getuid?.() === 0;
  // chown to another user needs root; CI runs as root, so this runs there.
  (asRoot ? it : it.skip)('refuses a root owned by another user', async () => {
    const sandbox = await mkdtemp(path.join(tmpdir(), 'oss-download-root-owner-'));
    const emulators = await startEmulators();
    try {
      const root = path.join(sandbox, 'downloads');
      mkdirSync(root, { mode: 0o750 });
      execFileSync('chown', ['12345', root]);
      const env = loopbackServiceEnv(emulators.oss.endpoint, BUCKET, { DOWNLOAD_ROOT: root });
      await expect(startService(env)).rejects.toThrow(/exited \(2\)[\s\S]*DOWNLOAD_ROOT: .*owned by uid 12345/);
    } finally {
      await Promise.all([emulators.oss.close(), emulators.metadata.close()]);
      await rm(sandbox, { recursive: true, force: true });
    }
  });

  it("creates a missing root as the service's own, mode 0750", async () => {
    const sandbox = await mkdtemp(path.join(tmpdir(), 'oss-download-root-new-'));
    const emulators = await startEmulators();
    try {
      const root = path.join(sandbox, 'new', 'downloads');
      const service = await startService(loopbackServiceEnv(emulators.oss.endpoint, BUCKET, { DOWNLOAD_ROOT: root }));
      await service.stop();
      expect(statSync(root).mode & 0o777).toBe(0o750);
    } finally {
      await Promise.all([emulators.oss.close(), emulators.metadata.close()]);
      await rm(sandbox, { recursive: true, force: true });
    }
  });
});
