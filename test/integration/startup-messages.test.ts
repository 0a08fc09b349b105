import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVER_ENTRY } from '../support/service-process';

/** What an operator sees when the service cannot start: the built entry point, as `npm start` runs it. */
function start(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

const VALID = {
  HOST: '127.0.0.1',
  OSS_REGION: 'cn-hangzhou',
  OSS_ENDPOINT: 'http://127.0.0.1:9',
  OSS_ALLOW: 'demo-bucket',
  CREDENTIALS_SOURCE: 'credentials_uri',
  ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:9/v1/credentials',
};

describe('the service refusing to start', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'startup-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says in one line, with no stack, that the port is in use, naming the address and PORT; exit 2', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const result = await start({ ...VALID, AUTH_MODE: 'none', PORT: String(port) });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `oss-download-service: cannot listen on 127.0.0.1:${port}: the address is already in use; stop what holds it or set another PORT (PORT=${port}, HOST=127.0.0.1)\n`,
      );
    } finally {
      holder.close();
    }
  });

  it('names the tokens file path beside every other bad variable in the one start-up message (a folder: EISDIR)', async () => {
    const result = await start({ ...VALID, OSS_REGION: 'nowhere', AUTH_TOKENS_FILE: dir, CORS_ORIGINS: 'https://x.example/' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').filter((l) => l !== '')).toEqual([
      'oss-download-service: invalid configuration:',
      '  - OSS_REGION: must look like cn-beijing',
      expect.stringMatching(/^ {2}- CORS_ORIGINS: "https:\/\/x\.example\/": each entry must be an origin/),
      `  - AUTH_TOKENS_FILE: ${dir}: is a folder, not a file`,
    ]);
  });

  it.each([
    ['a missing file', (d: string) => path.join(d, 'nope'), (f: string) => `  - AUTH_TOKENS_FILE: ${f}: does not exist`],
    [
      'a file that does not parse (each bad line named, never its content)',
      (d: string) => {
        const file = path.join(d, 'tokens');
        writeFileSync(file, 'reader odt_PASTED_RAW_TOKEN_xxxxxxxxxxxxxxxx read=demo-bucket\n');
        return file;
      },
      (f: string) => `  - AUTH_TOKENS_FILE: ${f}:`,
    ],
  ])('reports %s in the same message form when the rest is fine', async (_name, makeFile, firstLine) => {
    const file = makeFile(dir);
    const result = await start({ ...VALID, PORT: '0', AUTH_TOKENS_FILE: file });
    expect(result.code).toBe(2);
    const lines = result.stderr.split('\n');
    expect(lines[0]).toBe('oss-download-service: invalid configuration:');
    expect(lines[1]).toBe(firstLine(file));
    expect(result.stderr).not.toContain('PASTED_RAW_TOKEN');
    expect(result.stdout).not.toMatch(/"msg":"listening"/);
  });
});
