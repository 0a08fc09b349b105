import { open } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../../src/errors';
import { fetchPart } from '../../../src/downloads/fetch-part';
import type { ObjectResponse, ObjectStore } from '../../../src/oss/object-store';

/** One part's GET, against a store that answers when the test says so. */
describe('fetchPart', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'fetch-part-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops at once, reading nothing, when the job was canceled while OSS was still to answer', async () => {
    let answer!: (response: ObjectResponse) => void;
    const store = {
      getObject: () => new Promise<ObjectResponse>((resolve) => (answer = resolve)),
    } as unknown as ObjectStore;
    let chunksRead = 0;
    const body = new Readable({
      read() {
        chunksRead += 1;
        this.push(chunksRead <= 4 ? Buffer.alloc(1024) : null); // the whole part, 4 KiB
      },
    });
    const file = await open(path.join(dir, 'part'), 'w+');
    const cancel = new AbortController();
    const reason = new AppError('DownloadCanceled', 'The download was canceled.');
    const object = { bucket: 'b-1', key: 'k', size: 4096, etag: '"E"' };
    const part = { index: 0, start: 0, end: 4095 };
    const fetching = fetchPart(store, object, part, file, cancel.signal, () => undefined);
    cancel.abort(reason);
    answer({ status: 206, headers: { etag: '"E"', 'content-range': 'bytes 0-4095/4096' }, body });
    await expect(fetching).rejects.toBe(reason);
    expect(body.destroyed).toBe(true);
    expect(chunksRead).toBe(0);
    expect((await file.stat()).size).toBe(0);
    await file.close();
  });
});
