import {
  constants,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sandboxTree } from '../../support/sandbox-tree';
import { DirectoryHandle } from '../../../src/downloads/directory-handle';
import { JobFolders } from '../../../src/downloads/job-folders';

/** The folders a prefix job holds open, and the folder operations its files use, against a tree a local writer changes. */
describe('JobFolders', () => {
  const tree = sandboxTree('job-folders');

  /** Descriptors of this process open on the sandbox's root or below: other tests' descriptors come and go meanwhile. */
  const openFds = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      const target = readlinkQuietly(`/proc/self/fd/${fd}`);
      return target === tree.root || target.startsWith(`${tree.root}/`);
    }).length;

  it('opens each folder once for all the files in it', async () => {
    const folders = new JobFolders(tree.root);
    const before = openFds();
    const targets = await Promise.all(Array.from({ length: 20 }, (_, i) => folders.target(`job/a/f${i}.bin`)));
    expect(new Set(targets.map((t) => t.dir)).size).toBe(1);
    expect(openFds() - before).toBe(3); // the root, job and job/a
    await Promise.all(targets.map((t) => t.release(false)));
    await folders.close();
    expect(openFds()).toBe(before);
  });

  it('keeps writing into the folder it opened after that folder is swapped for a symlink to outside', async () => {
    const folders = new JobFolders(tree.root);
    const first = await folders.target('models/a.bin');
    await first.release(false);
    renameSync(path.join(tree.root, 'models'), path.join(tree.root, 'moved'));
    symlinkSync(tree.outside, path.join(tree.root, 'models'));

    const second = await folders.target('models/b.bin');
    const file = await second.dir.createFile(second.name, constants.O_WRONLY);
    await file.writeFile('bytes');
    await file.close();
    await second.release(false);
    await folders.close();

    expect(readdirSync(tree.outside)).toEqual([]);
    expect(readFileSync(path.join(tree.root, 'moved', 'b.bin'), 'utf8')).toBe('bytes');
  });

  it('refuses a folder on the path that is a symlink, and tries again for the next file', async () => {
    symlinkSync(tree.outside, path.join(tree.root, 'link'));
    const folders = new JobFolders(tree.root);
    await expect(folders.target('link/f.bin')).rejects.toMatchObject({ code: 'InvalidRequest' });
    rmSync(path.join(tree.root, 'link'));
    const files = await folders.target('link/f.bin');
    expect(existsSync(path.join(tree.root, 'link'))).toBe(true);
    await files.release(false);
    await folders.close();
    expect(readdirSync(tree.outside)).toEqual([]);
  });

  it('removes at close the folders it created that stayed empty, and nothing else', async () => {
    mkdirSync(path.join(tree.root, 'job'));
    const folders = new JobFolders(tree.root);
    const kept = await folders.target('job/kept/f.bin');
    writeFileSync(path.join(tree.root, 'job/kept/f.bin'), 'x');
    const failed = await folders.target('job/failed/deeper/f.bin');
    await Promise.all([kept.release(false), failed.release(true)]);
    expect(existsSync(path.join(tree.root, 'job/failed/deeper'))).toBe(true); // until the job ends
    await folders.close();
    expect(readdirSync(path.join(tree.root, 'job')).sort()).toEqual(['kept']);
  });

  it('holds at most 64 idle folders open, opening a closed one again when a file needs it', async () => {
    const folders = new JobFolders(tree.root);
    const before = openFds();
    for (let i = 0; i < 100; i++) await (await folders.target(`job/d${i}/f.bin`)).release(false);
    expect(openFds() - before).toBeLessThanOrEqual(64);
    const again = await folders.target('job/d0/g.bin');
    expect(again.shownAs).toBe('job/d0/g.bin');
    await again.release(false);
    await folders.close();
    expect(openFds()).toBe(before);
  });
});

describe('DirectoryHandle', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'directory-handle-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a new file where a hard link to another file was planted, never writing through it', async () => {
    writeFileSync(path.join(dir, 'victim'), 'untouched');
    linkSync(path.join(dir, 'victim'), path.join(dir, '.f.tmp'));
    const handle = await DirectoryHandle.open(dir);

    const file = await handle.createFile('.f.tmp', constants.O_WRONLY);
    await file.writeFile('new');
    await file.close();
    await handle.close();

    expect(readFileSync(path.join(dir, 'victim'), 'utf8')).toBe('untouched');
    expect(readFileSync(path.join(dir, '.f.tmp'), 'utf8')).toBe('new');
  });

  it('refuses to create a file where a folder is', async () => {
    mkdirSync(path.join(dir, 'sub'));
    const handle = await DirectoryHandle.open(dir);
    await expect(handle.createFile('sub', constants.O_WRONLY)).rejects.toMatchObject({ code: 'Conflict' });
    await handle.close();
  });

  it('shares folder fsyncs between callers: one running and one after it, however many wait', async () => {
    const handle = await DirectoryHandle.open(dir);
    const fsyncs = jest.spyOn(Object.getPrototypeOf(Reflect.get(handle, 'handle')) as { sync(): Promise<void> }, 'sync');
    await Promise.all(Array.from({ length: 8 }, () => handle.sync()));
    expect(fsyncs).toHaveBeenCalledTimes(2);
    await handle.sync();
    expect(fsyncs).toHaveBeenCalledTimes(3);
    fsyncs.mockRestore();
    await handle.close();
  });
});

function readlinkQuietly(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return ''; // closed since it was listed
  }
}
