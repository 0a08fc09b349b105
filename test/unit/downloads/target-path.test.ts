import { execFileSync } from 'node:child_process';
import {
  constants,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sandboxTree } from '../../support/sandbox-tree';
import { findJobTarget, jobTargetExists, openJobTarget } from '../../../src/downloads/target-path';

/**
 * The folder walk a job does under DOWNLOAD_ROOT, against a tree a hostile
 * local writer has prepared or changes while the job holds its folders.
 */
describe('openJobTarget', () => {
  const tree = sandboxTree('target-path');

  it('creates the folders on the way and removes the ones it created, still empty, when released after a failure', async () => {
    mkdirSync(path.join(tree.root, 'kept'));
    const files = await openJobTarget(tree.root, 'kept/new/deeper/f.bin');
    expect(existsSync(path.join(tree.root, 'kept/new/deeper'))).toBe(true);
    await files.release(true);
    expect(readdirSync(tree.root)).toEqual(['kept']);
    expect(readdirSync(path.join(tree.root, 'kept'))).toEqual([]);
  });

  it('leaves a created folder that another job wrote into', async () => {
    const files = await openJobTarget(tree.root, 'shared/a/f.bin');
    writeFileSync(path.join(tree.root, 'shared/other.bin'), 'x');
    await files.release(true);
    expect(readdirSync(path.join(tree.root, 'shared'))).toEqual(['other.bin']);
  });

  it('refuses a folder on the path that is a symlink, writing nothing outside', async () => {
    symlinkSync(tree.outside, path.join(tree.root, 'link'));
    await expect(openJobTarget(tree.root, 'link/sub/f.bin')).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(readdirSync(tree.outside)).toEqual([]);
  });

  it('refuses a target that is a symlink or a folder', async () => {
    symlinkSync(path.join(tree.outside, 'victim'), path.join(tree.root, 'f.bin'));
    mkdirSync(path.join(tree.root, 'dir.bin'));
    await expect(openJobTarget(tree.root, 'f.bin')).rejects.toMatchObject({ code: 'InvalidRequest' });
    await expect(openJobTarget(tree.root, 'dir.bin')).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('keeps writing into the folder it opened after that folder is swapped for a symlink to outside', async () => {
    const files = await openJobTarget(tree.root, 'models/f.bin');
    renameSync(path.join(tree.root, 'models'), path.join(tree.root, 'moved'));
    symlinkSync(tree.outside, path.join(tree.root, 'models'));
    const temp = await files.dir.openFile(files.temp, constants.O_RDWR | constants.O_CREAT);
    await temp.writeFile('bytes');
    await temp.close();
    await files.dir.rename(files.temp, files.name);
    await files.release(false);
    expect(readdirSync(tree.outside)).toEqual([]);
    expect(readdirSync(path.join(tree.root, 'moved'))).toEqual(['f.bin']);
  });

  it.each(['temp', 'checkpoint', 'checkpointNext'] as const)('refuses a symlink at the %s side file instead of writing through it', async (side) => {
    const files = await openJobTarget(tree.root, 'f.bin');
    symlinkSync(path.join(tree.outside, 'victim'), path.join(tree.root, files[side]));
    await expect(files.dir.openFile(files[side], constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC)).rejects.toMatchObject({
      code: 'Conflict',
    });
    await files.release(false);
    expect(readdirSync(tree.outside)).toEqual([]);
  });

  it('refuses to write through a temporary file that is a hard link to a file elsewhere (a planted resume)', async () => {
    const files = await openJobTarget(tree.root, 'f.bin');
    const victim = path.join(tree.outside, 'victim');
    writeFileSync(victim, 'keep me');
    linkSync(victim, path.join(tree.root, files.temp));
    // Reading it is harmless (a checkpoint's temp file is read back to verify it); writing would change the victim.
    await (await files.dir.openFile(files.temp, constants.O_RDONLY)).close();
    await expect(files.dir.openFile(files.temp, constants.O_RDWR | constants.O_CREAT)).rejects.toMatchObject({ code: 'Conflict' });
    await expect(files.dir.openFile(files.temp, constants.O_WRONLY)).rejects.toMatchObject({ code: 'Conflict' });
    await files.release(false);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
  });

  it.each(['temp', 'checkpoint', 'checkpointNext'] as const)('refuses a FIFO at the %s side file at once, for reading and writing', async (side) => {
    const files = await openJobTarget(tree.root, 'f.bin');
    execFileSync('mkfifo', [path.join(tree.root, files[side])]);
    // Without O_NONBLOCK either open would block a libuv thread until a writer or reader came.
    await expect(files.dir.openFile(files[side], constants.O_RDONLY)).rejects.toMatchObject({ code: 'Conflict' });
    await expect(files.dir.openFile(files[side], constants.O_WRONLY | constants.O_CREAT)).rejects.toMatchObject({ code: 'Conflict' });
    await expect(files.dir.openFile(files[side], constants.O_RDWR | constants.O_CREAT)).rejects.toMatchObject({ code: 'Conflict' });
    await files.release(false);
  });

  it('refuses a path the rule refuses before touching the disk', async () => {
    await expect(openJobTarget(tree.root, 'a/../../escape')).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(readdirSync(tree.root)).toEqual([]);
  });
});

describe('findJobTarget and jobTargetExists', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(path.join(tmpdir(), 'target-find-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('create nothing and say whether the target is there', async () => {
    expect(await findJobTarget(root, 'a/b/f.bin')).toBeUndefined();
    expect(await jobTargetExists(root, 'a/b/f.bin')).toBe(false);
    expect(readdirSync(root)).toEqual([]);
    mkdirSync(path.join(root, 'a/b'), { recursive: true });
    writeFileSync(path.join(root, 'a/b/f.bin'), 'x');
    expect(await jobTargetExists(root, 'a/b/f.bin')).toBe(true);
  });

  it('do not look through a symlinked folder', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'target-outside-'));
    writeFileSync(path.join(outside, 'f.bin'), 'x');
    symlinkSync(outside, path.join(root, 'link'));
    await expect(jobTargetExists(root, 'link/f.bin')).rejects.toMatchObject({ code: 'InvalidRequest' });
    rmSync(outside, { recursive: true, force: true });
  });
});
