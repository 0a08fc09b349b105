import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

/** `npm run demo` as a user runs it: a real child process, fetched with the real curl. */
describe('npm run demo', () => {
  let demo: ChildProcess;
  let base: string;
  let printed = '';

  beforeAll(async () => {
    demo = spawn(process.execPath, ['--import', 'tsx', 'demo/run-demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the demo did not start within 30 s')), 30_000);
      readline.createInterface({ input: demo.stdout! }).on('line', (line) => {
        printed += `${line}\n`;
        // The whole list is out once its last line is: the tests below read it.
        const match = /the service is at (http:\/\/\S+)/.exec(printed);
        if (match && line.endsWith('Ctrl-C stops the demo.')) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      demo.once('exit', (code) => reject(new Error(`the demo exited with ${code}`)));
    });
  }, 40_000);

  afterAll(async () => {
    if (demo.exitCode !== null) return;
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGTERM');
    await exited;
  });

  const curl = async (...args: string[]) => (await run('curl', ['-sS', ...args], { encoding: 'utf8' })).stdout;

  it('serves an object whole', async () => {
    expect(await curl(`${base}/v1/objects/demo-bucket/hello.txt`)).toBe('Hello from the OSS emulator.\n');
  });

  it('serves it by range', async () => {
    const out = await curl('-i', '-H', 'Range: bytes=0-4', `${base}/v1/objects/demo-bucket/hello.txt`);
    expect(out).toMatch(/^HTTP\/1\.1 206 /);
    expect(out).toMatch(/content-range: bytes 0-4\/29/i);
    expect(out.endsWith('\r\n\r\nHello')).toBe(true);
  });

  it('answers HEAD', async () => {
    const out = await curl('-I', `${base}/v1/objects/demo-bucket/hello.txt`);
    expect(out).toMatch(/^HTTP\/1\.1 200 /);
    expect(out).toMatch(/content-length: 29/i);
  });

  it('serves the unicode key', async () => {
    const key = `reports/2026/${encodeURIComponent('日本語 レポート.txt')}`;
    expect(await curl(`${base}/v1/objects/demo-bucket/${key}`)).toBe('ユニコードのキーも読めます。\n');
  });

  it('prints a readable Try: list: no log line inside it (they go to .demo/service.log)', async () => {
    expect(printed).not.toMatch(/^\{"level"/m);
    expect(printed).toContain(`  ${base}/v1/objects/demo-bucket?delimiter=/`);
    expect(readFileSync(path.join(ROOT, '.demo', 'service.log'), 'utf8')).toMatch(/"msg":"listening"/);
  });

  it('prints an oss-download command line that works against it (run here for hello.txt instead of the 1 GiB object)', async () => {
    const lines = printed.split('\n');
    const at = lines.findIndex((l) => l.includes('npx tsx src/cli/oss-download.ts get '));
    const command = `${lines[at - 1].trim().replace(/ \\$/, '')} ${lines[at].trim()}`;
    expect(command).toMatch(
      /^OSS_REGION=\S+ OSS_ENDPOINT=http:\/\/127\.0\.0\.1:\d+ CREDENTIALS_SOURCE=credentials_uri ALIBABA_CLOUD_CREDENTIALS_URI=\S+ npx tsx /,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'demo-cli-'));
    try {
      const target = path.join(dir, 'hello.txt');
      const adapted = command.replace('oss://demo-bucket/large/1GiB.bin .demo/1GiB.bin', `oss://demo-bucket/hello.txt ${target}`);
      expect(adapted).not.toBe(command);
      await run('sh', ['-c', adapted], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
      expect(readFileSync(target, 'utf8')).toBe('Hello from the OSS emulator.\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('says "try PORT=0" when its port is taken (by this demo), after the service\'s one line', async () => {
    const port = new URL(base).port;
    const second = await run(process.execPath, ['--import', 'tsx', 'demo/run-demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: port },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(second.code).not.toBe(0);
    expect(second.stderr).toBe(
      `oss-download-service: cannot listen on 127.0.0.1:${port}: the address is already in use; stop what holds it or set another PORT (PORT=${port}, HOST=127.0.0.1)\n` +
        `demo: port ${port} is in use: try PORT=0 npm run demo (any free port)\n`,
    );
  }, 30_000);
});
