import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

/** `npm run demo` as a user runs it: a real child process, fetched with the real curl. */
describe('npm run demo', () => {
  let demo: ChildProcess;
  let base: string;

  beforeAll(async () => {
    demo = spawn(process.execPath, ['--import', 'tsx', 'demo/run-demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the demo did not start within 30 s')), 30_000);
      readline.createInterface({ input: demo.stdout! }).on('line', (line) => {
        const match = /the service is at (http:\/\/\S+)/.exec(line);
        if (match) {
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
});
