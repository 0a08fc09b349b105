import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Crc64 } from '../../src/crc64';
import { planParts } from '../../src/downloads/part-plan';
import { cliEnv, runCli } from '../support/cli-process';
import { checkpointOf, checkpointWith, filesUnder, rangesFetched, readCheckpointFile } from '../support/downloads';
import { BUCKET, startStack, type Stack } from '../support/stack';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('oss-download get (the command line, as a child process)', () => {
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack();
    stack.oss.putObject(BUCKET, 'notes/hello.txt', 'hello from the cli\n');
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'oss-download-cli-'));
    stack.oss.clearFaults();
    stack.oss.resetCounters();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('downloads a generated 1 GiB object whose CRC64 matches OSS, quietly when not on a terminal', async () => {
    const info = stack.oss.putGeneratedObject(BUCKET, 'large/1GiB.bin', GiB, 42);
    const target = path.join(dir, 'model.bin');
    const result = await runCli(['get', `oss://${BUCKET}/large/1GiB.bin`, target], cliEnv(stack)).exited;
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await fileCrc(target)).toBe(info.crc64);
    expect(filesUnder(dir)).toEqual(['model.bin']);
  }, 120_000);

  it("keeps the key's base name when the local path is a folder", async () => {
    const result = await runCli(['get', `oss://${BUCKET}/notes/hello.txt`, `${dir}/`], cliEnv(stack)).exited;
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(dir, 'hello.txt'), 'utf8')).toBe('hello from the cli\n');
  });

  it.each([
    ['a missing object', ['get', `oss://${BUCKET}/nope.txt`, 'DIR/x'], 3],
    ['no arguments after get', ['get'], 2],
    ['a URL that is not oss://', ['get', 'https://x/y', 'DIR/x'], 2],
    ['an unknown command', ['fetch'], 2],
  ])('exits with a clear code for %s', async (_name, args, code) => {
    const result = await runCli(
      args.map((a) => a.replace('DIR', dir)),
      cliEnv(stack),
    ).exited;
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(/^oss-download: /);
  });

  it.each([[['get', '--help']], [['get', '-h']], [['get', 'oss://b/k', '--help']]])(
    'prints the get usage on stdout and exits 0 for %j',
    async (args) => {
      const result = await runCli(args, cliEnv(stack)).exited;
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^usage: oss-download get \[options\] oss:\/\/BUCKET\/KEY LOCAL_PATH\n/);
      expect(result.stdout).toMatch(/-f, --overwrite/);
    },
  );

  it('refuses to replace an existing file without --overwrite (exit 6), and replaces it with it', async () => {
    const target = path.join(dir, 'hello.txt');
    writeFileSync(target, 'mine');
    const refused = await runCli(['get', `oss://${BUCKET}/notes/hello.txt`, target], cliEnv(stack)).exited;
    expect(refused.code).toBe(6);
    expect(refused.stderr).toBe(`oss-download: ${target} exists: use -f (--overwrite) to replace it.\n`);
    expect(readFileSync(target, 'utf8')).toBe('mine');
    const replaced = await runCli(['get', '--overwrite', `oss://${BUCKET}/notes/hello.txt`, target], cliEnv(stack)).exited;
    expect(replaced.code).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('hello from the cli\n');
  });

  it('stops on SIGINT with exit 130, keeping the temporary file and checkpoint for a resume', async () => {
    stack.oss.putGeneratedObject(BUCKET, 'interrupt.bin', 16 * MiB, 78);
    const target = path.join(dir, 'interrupt.bin');
    stack.oss.injectFault({ kind: 'bandwidth', bytesPerSecond: 2 * MiB, match: { key: 'interrupt.bin' }, times: Infinity });
    const run = runCli(['get', '--part-size', '1', '--threshold', '1', '-p', '2', `oss://${BUCKET}/interrupt.bin`, target], cliEnv(stack));
    await checkpointWith(checkpointOf(target), 1);
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/run the same command again to resume/);
    expect(filesUnder(dir)).toEqual(['.interrupt.bin.oss-download', '.interrupt.bin.oss-download.json']);
  }, 30_000);

  it('resumes after SIGKILL and fetches only the parts the checkpoint does not hold', async () => {
    const size = 48 * MiB;
    const info = stack.oss.putGeneratedObject(BUCKET, 'resume.bin', size, 77);
    const target = path.join(dir, 'resume.bin');
    const args = ['get', '--part-size', '1', '--threshold', '1', '--parallelism', '4', `oss://${BUCKET}/resume.bin`, target];
    // Slow every connection so the kill lands mid-download.
    stack.oss.injectFault({ kind: 'bandwidth', bytesPerSecond: 4 * MiB, match: { key: 'resume.bin' }, times: Infinity });
    const first = runCli(args, cliEnv(stack));
    const checkpointFile = checkpointOf(target);
    await checkpointWith(checkpointFile, 6);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(existsSync(target)).toBe(false);

    const saved = readCheckpointFile(checkpointFile)!;
    const missing = planParts(size, MiB, MiB)
      .filter((p) => saved.parts[p.index] === undefined)
      .map((p) => `${p.start}-${p.end}`);
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.length).toBeLessThan(48);
    stack.oss.clearFaults();
    stack.oss.resetCounters();

    const second = await runCli(args, cliEnv(stack)).exited;
    expect(second.code).toBe(0);
    expect(rangesFetched(stack.oss.requests, 'resume.bin').sort()).toEqual(missing.sort());
    expect(await fileCrc(target)).toBe(info.crc64);
    expect(filesUnder(dir)).toEqual(['resume.bin']);
  }, 60_000);
});

async function fileCrc(file: string): Promise<bigint> {
  const crc = new Crc64();
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) crc.update(chunk as Buffer);
  return crc.digest();
}
