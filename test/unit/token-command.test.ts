import { execFile } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { parseTokenFile } from '../../src/auth/token-file';
import { hashToken } from '../../src/auth/tokens';
import { tokenCommand as tokenCommandInProcess } from '../../src/cli/token-command';

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
    const { code, stdout } = await tokenCommand(
      'create',
      'reports-reader',
      '--scope',
      'demo-bucket/reports/',
      '--scope',
      'logs-bucket',
      '--downloads',
    );
    expect(code).toBe(0);
    const token = /^ {2}(odt_[A-Za-z0-9_-]{43})$/m.exec(stdout)![1];
    const line = stdout.trim().split('\n').at(-1)!;
    expect(line).toBe(`reports-reader ${hashToken(token)} read=demo-bucket/reports/ read=logs-bucket downloads`);
    expect(line).not.toContain(token);
    expect(parseTokenFile(line)).toMatchObject({ ok: true, entries: [{ name: 'reports-reader', downloads: [''], metrics: false }] });
  });

  it('prints a line with downloads=PREFIX that the tokens file reads as that prefix', async () => {
    const { code, stdout } = await tokenCommand('create', 'models-team', '--downloads', 'models/', '--downloads=datasets/');
    expect(code).toBe(0);
    const line = stdout.trim().split('\n').at(-1)!;
    expect(line).toMatch(/^models-team sha256:[0-9a-f]{64} downloads=models\/ downloads=datasets\/$/);
    expect(parseTokenFile(line)).toMatchObject({ ok: true, entries: [{ name: 'models-team', read: [], downloads: ['models/', 'datasets/'] }] });
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

/** The same command in this process, for the many argument shapes below. */
async function create(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await tokenCommandInProcess(['create', 'ci', ...args], out, err);
  return { code, stdout, stderr };
}

/** The tokens-file line `token create` printed (its last line). */
const printedLine = (stdout: string) => stdout.trim().split('\n').at(-1)!;

describe('token create --downloads', () => {
  it.each([
    [['--downloads'], 'downloads', ['']],
    [['--downloads', 'models/'], 'downloads=models/', ['models/']],
    [['--downloads=models/'], 'downloads=models/', ['models/']],
    [['--downloads', 'models/', '--downloads', 'datasets/2024-'], 'downloads=models/ downloads=datasets/2024-', ['models/', 'datasets/2024-']],
    [['--downloads', '--metrics'], 'downloads metrics', ['']],
    [['--downloads', 'models/', '--downloads'], 'downloads=models/ downloads', ['models/', '']],
    [['--scope', 'bkt/pub/', '--downloads', 'models/', '--metrics'], 'read=bkt/pub/ downloads=models/ metrics', ['models/']],
  ])('for %j prints scopes "%s" that the tokens file reads back the same', async (args, scopes, prefixes) => {
    const { code, stdout } = await create(...args);
    expect(code).toBe(0);
    const line = printedLine(stdout);
    expect(line).toMatch(new RegExp(`^ci sha256:[0-9a-f]{64} ${scopes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    const parsed = parseTokenFile(line);
    expect(parsed).toMatchObject({ ok: true, entries: [{ name: 'ci', downloads: prefixes }] });
  });

  it('agrees with the file on every scope: the printed line parses to exactly the scopes asked for', async () => {
    const { stdout } = await create('--scope', 'bkt/reports/', '--scope', 'logs', '--downloads', 'models/', '--downloads', '--metrics');
    expect(parseTokenFile(printedLine(stdout))).toEqual({
      ok: true,
      entries: [
        {
          name: 'ci',
          hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
          read: [
            { bucket: 'bkt', prefix: 'reports/' },
            { bucket: 'logs', prefix: '' },
          ],
          downloads: ['models/', ''],
          metrics: true,
        },
      ],
    });
  });

  it.each([
    [['--scope', 'bkt/pub#1/'], /^--scope bkt\/pub#1\/: a scope cannot hold # or whitespace/],
    [['--scope', 'bkt/a b'], /^--scope bkt\/a b: a scope cannot hold # or whitespace/],
    [['--scope', 'bkt/a\tb'], /cannot hold # or whitespace/],
    [['--downloads', 'models#1/'], /^--downloads models#1\/: a scope cannot hold # or whitespace/],
    [['--downloads=my models/'], /^--downloads my models\/: a scope cannot hold # or whitespace/],
    [['--downloads=/abs/'], /^--downloads \/abs\/: a downloads prefix must be relative/],
    [['--downloads', 'a/../b/'], /^--downloads a\/..\/b\/: a downloads prefix must not contain empty, \. or \.\. folders/],
    [['--downloads='], /^--downloads : downloads= needs a prefix/],
    [['--downloads', 'models\\'], /control characters or backslashes/],
  ])('exits 2 for %j, which the tokens file could not hold', async (args, message) => {
    const { code, stdout, stderr } = await create(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/usage: oss-download token create/);
  });

  it('states the --downloads rule in the usage text', async () => {
    const { stdout } = await create('--help');
    expect(stdout).toMatch(/--downloads\s+takes the next argument as its PREFIX unless that starts with -/);
  });

  it('leaves arguments after -- to parseArgs, so --downloads there is a positional', async () => {
    const { code, stderr } = await create('--metrics', '--', '--downloads');
    expect(code).toBe(2);
    expect(stderr).toMatch(/unexpected arguments: --downloads/);
  });
});
