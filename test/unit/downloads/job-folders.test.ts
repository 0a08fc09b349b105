import { constants, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectoryHandle } from '../../../src/downloads/directory-handle';
import { JobFolders } from '../../../src/downloads/job-folders';

/** The folders a prefix job holds open, and the folder operations its files use, against a tree a local writer changes. */
describe('JobFolders', () => {
  let sandbox: string;
  let root: string;
  let outside: string;
  beforeEach(() => {
    sandbox = mkdtempSync(path.join(tmpdir(), 'job-folders-'));
    root = path.join(sandbox, 'root');
    outside = path.join(sandbox, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
  });
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

  const openFds = () => readdirSync('/proc/self/fd').length;

  it('opens each folder once for all the files in it', async () => {
    const folders = new JobFolders(root);
    const before = openFds();
    const targets = await Promise.all(Array.from({ length: 20 }, (_, i) => folders.target(`job/a/f${i}.bin`)));
    expect(new Set(targets.map((t) => t.dir)).size).toBe(1);
    expect(openFds() - before).toBe(3); // the root, job and job/a
    await Promise.all(targets.map((t) => t.release(false)));
    await folders.close();
    expect(openFds()).toBe(before);
  });

  it('keeps writing into the folder it opened after that folder is swapped for a symlink to outside', async () => {
    const folders = new JobFolders(root);
    const first = await folders.target('models/a.bin');
    await first.release(false);
    renameSync(path.join(root, 'models'), path.join(root, 'moved'));
    symlinkSync(outside, path.join(root, 'models'));

    const second = await folders.target('models/b.bin');
    const file = await second.dir.createFile(second.name, constants.O_WRONLY);
    await file.writeFile('bytes');
    await file.close();
    await second.release(false);
    await folders.close();

    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(path.join(root, 'moved', 'b.bin'), 'utf8')).toBe('bytes');
  });

  it('refuses a folder on the path that is a symlink, and tries again for the next file', async () => {
    symlinkSync(outside, path.join(root, 'link'));
    const folders = new JobFolders(root);
    await expect(folders.target('link/f.bin')).rejects.toMatchObject({ code: 'InvalidRequest' });
    rmSync(path.join(root, 'link'));
    const files = await folders.target('link/f.bin');
    expect(existsSync(path.join(root, 'link'))).toBe(true);
    await files.release(false);
    await folders.close();
    expect(readdirSync(outside)).toEqual([]);
  });

  it('removes at close the folders it created that stayed empty, and nothing else', async () => {
    mkdirSync(path.join(root, 'job'));
    const folders = new JobFolders(root);
    const kept = await folders.target('job/kept/f.bin');
    writeFileSync(path.join(root, 'job/kept/f.bin'), 'x');
    const failed = await folders.target('job/failed/deeper/f.bin');
    await Promise.all([kept.release(false), failed.release(true)]);
    expect(existsSync(path.join(root, 'job/failed/deeper'))).toBe(true); // until the job ends
    await folders.close();
    expect(readdirSync(path.join(root, 'job')).sort()).toEqual(['kept']);
  });

  it('holds at most 64 idle folders open, opening a closed one again when a file needs it', async () => {
    const folders = new JobFolders(root);
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
