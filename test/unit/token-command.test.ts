import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseTokenFile } from '../../src/auth/token-file';
import { hashToken } from '../../src/auth/tokens';

const run = promisify(execFile);
const COMMAND = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'token-command.js');

/** `node dist/src/cli/token-command.js` as an operator runs it (needs `npm run build`). */
async function tokenCommand(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [COMMAND, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('token create', () => {
  it('prints a new token once and the tokens-file line holding only its hash', async () => {
    const { code, stdout } = await tokenCommand('create', 'reports-reader', '--scope', 'demo-bucket/reports/', '--scope', 'logs-bucket', '--downloads');
    expect(code).toBe(0);
    const token = /^ {2}(odt_[A-Za-z0-9_-]{43})$/m.exec(stdout)![1];
    const line = stdout.trim().split('\n').at(-1)!;
    expect(line).toBe(`reports-reader ${hashToken(token)} read=demo-bucket/reports/ read=logs-bucket downloads`);
    expect(line).not.toContain(token);
    expect(parseTokenFile(line)).toMatchObject({ ok: true, entries: [{ name: 'reports-reader', downloads: true, metrics: false }] });
  });

  it('makes a different token every time', async () => {
    const [a, b] = await Promise.all([tokenCommand('create', 'a', '--metrics'), tokenCommand('create', 'a', '--metrics')]);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it.each([
    [['create'], /missing NAME/],
    [['create', 'x'], /at least one --scope/],
    [['create', '-bad', '--scope', 'bkt'], /Unknown option|is not 1 to 64/],
    [['create', 'x', '--scope', 'Bad_Bucket'], /--scope Bad_Bucket: must be a valid bucket name/],
    [['create', 'rejected', '--metrics'], /reserved/],
    [['delete', 'x'], /unknown command: delete/],
    [['create', 'x', 'y', '--scope', 'bkt'], /unexpected arguments: y/],
    [['create', 'x', '--scope'], /argument missing|--scope/],
  ])('exits 2 with usage for %j', async (args, message) => {
    const { code, stdout, stderr } = await tokenCommand(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/usage: oss-download token create/);
  });
});
