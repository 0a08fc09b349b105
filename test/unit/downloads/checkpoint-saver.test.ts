import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCheckpoint, type Checkpoint } from '../../../src/downloads/checkpoint';
import { CheckpointSaver } from '../../../src/downloads/checkpoint-saver';
import { openLocalTarget } from '../../../src/downloads/target-path';

const record = (): Checkpoint => ({
  version: 1,
  bucket: 'b',
  key: 'k',
  path: 'p',
  overwrite: false,
  etag: '"E"',
  size: 100,
  crc64: null,
  partSize: 10,
  thresholdBytes: 10,
  parts: {},
});

describe('CheckpointSaver', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'checkpoint-saver-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes in the background and has every finished part on disk once flushed', async () => {
    const files = await openLocalTarget(path.join(dir, 'x'));
    const failures: unknown[] = [];
    const saver = new CheckpointSaver(files, record(), (err) => failures.push(err));
    for (let i = 0; i < 10; i += 1) saver.partDone(i, BigInt(1000 + i)); // no await: parts never wait for a write
    await saver.flushed();
    expect(failures).toEqual([]);
    const written = await readCheckpoint(files.dir, files.checkpoint);
    await files.release(false);
    expect(written?.parts).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), String(1000 + i)])));
  });

  it('reports a write that failed as soon as it fails, so the job stops instead of downloading what it cannot record', async () => {
    const files = await openLocalTarget(path.join(dir, 'x'));
    mkdirSync(path.join(dir, files.checkpointNext)); // a folder where the record's side file goes
    const failures: unknown[] = [];
    const saver = new CheckpointSaver(files, record(), (err) => failures.push(err));
    saver.partDone(0, 1n);
    await saver.flushed();
    await files.release(false);
    expect(failures).toEqual([expect.objectContaining({ code: 'Conflict' })]);
  });
});
