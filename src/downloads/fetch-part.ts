import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Crc64 } from '../crc64-choice';
import { AppError, isAppError } from '../errors';
import type { ObjectStore } from '../oss/object-store';
import { partLength, type Part } from './part-plan';
import { shortBody } from './retry';

export interface ObjectVersion {
  bucket: string;
  key: string;
  size: number;
  /** Every part is pinned to it with If-Match: a replaced object fails with 412, never mixes versions. */
  etag: string;
  /** A download of one version: every part asks for exactly it. */
  versionId?: string;
}

/**
 * Fetches one part with a ranged, If-Match GET and writes it at its offset in
 * the temporary file. Returns the part's CRC64, computed from the bytes as
 * they are written (the same Crc64 that checks whole streams). `onBytes`
 * hears of bytes once they are written, a batch at a time; `onHeaders` of the
 * answer's headers once they are checked.
 */
export async function fetchPart(
  store: ObjectStore,
  object: ObjectVersion,
  part: Part,
  file: FileHandle,
  signal: AbortSignal,
  onBytes: (n: number) => void,
  onHeaders?: (headers: Readonly<Record<string, string>>) => void,
): Promise<bigint> {
  const response = await store
    .getObject({
      bucket: object.bucket,
      key: object.key,
      range: `bytes=${part.start}-${part.end}`,
      preconditions: { ifMatch: object.etag },
      versionId: object.versionId,
    })
    .catch((err: unknown) => {
      throw isAppError(err) && err.code === 'PreconditionFailed' ? objectChanged(object, err) : err;
    });
  const body = response.body;
  if (!body) throw new AppError('UpstreamUnavailable', `OSS sent no body for a part of ${object.key}.`);
  const abort = () => body.destroy();
  signal.addEventListener('abort', abort, { once: true });
  try {
    // Canceled while OSS was still to answer: the listener above never fires for a signal already aborted.
    signal.throwIfAborted();
    checkSpan(response.status, response.headers, part, object);
    onHeaders?.(response.headers);
    const writer = new PartWriter(file, part.start, onBytes);
    await readInto(body, writer);
    const received = writer.position - part.start;
    if (received !== partLength(part)) throw shortBody(partLength(part), received);
    return writer.crc.digest();
  } finally {
    signal.removeEventListener('abort', abort);
    body.destroy();
  }
}

/** The answer must be exactly the bytes asked for, of the version pinned. */
function checkSpan(status: number, headers: Readonly<Record<string, string>>, part: Part, object: ObjectVersion): void {
  if (headers.etag !== undefined && headers.etag !== object.etag) throw objectChanged(object);
  const wholeObject = part.start === 0 && part.end === object.size - 1;
  if (status === 200 && wholeObject) return; // a server may answer a whole-object range with 200
  const expected = `bytes ${part.start}-${part.end}/${object.size}`;
  if (status !== 206 || headers['content-range'] !== expected) {
    throw new AppError('UpstreamUnavailable', `OSS answered ${status} (${headers['content-range'] ?? 'no Content-Range'}) for ${expected}.`);
  }
}

export function objectChanged(object: ObjectVersion, cause?: unknown): AppError {
  return new AppError(
    'ObjectChanged',
    `${object.bucket}/${object.key} was replaced in OSS during the download (its ETag is no longer ${object.etag}); nothing was written to the target.`,
    { cause },
  );
}

/**
 * Feeds the body to the writer from 'data' events and pauses it only while a
 * full batch is written: per socket chunk that is a CRC update and an array
 * push, where `for await` also costs a promise and an iterator result.
 * Settles after any write in flight has, so no write of a failed attempt can
 * land after its retry started.
 */
async function readInto(body: Readable, writer: PartWriter): Promise<void> {
  const ended = finished(body);
  let writing: Promise<void> = Promise.resolve();
  body.on('data', (chunk: Buffer) => {
    if (!writer.add(chunk)) return;
    body.pause();
    writing = writer.flush().then(
      () => void body.resume(),
      (err: unknown) => void body.destroy(err as Error),
    );
  });
  try {
    await ended;
  } finally {
    await writing;
  }
  await writer.flush();
}

/** Socket chunks are small (16 to 64 KiB); one writev per MiB keeps system calls and thread-pool trips few. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** The CRC64 of a part's bytes, and their writes at the part's offset in batches. */
class PartWriter {
  readonly crc = new Crc64();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The file offset just past the last byte added. */
  position: number;
  private flushedTo: number;

  constructor(
    private readonly file: FileHandle,
    start: number,
    private readonly onWritten: (n: number) => void,
  ) {
    this.position = start;
    this.flushedTo = start;
  }

  /** True when a batch is full and should be flushed before more is added. */
  add(chunk: Buffer): boolean {
    this.crc.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.position += chunk.length;
    return this.pendingBytes >= WRITE_BATCH_BYTES;
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    const at = this.flushedTo;
    const total = this.pendingBytes;
    this.pending = [];
    this.flushedTo += total;
    this.pendingBytes = 0;
    let written = 0;
    // writev may write less than asked (rarely, on a full disk or a signal): go on from where it stopped.
    while (written < total) {
      const { bytesWritten } = await this.file.writev(remaining(buffers, written), at + written);
      if (bytesWritten === 0) throw new Error('the disk accepted no bytes');
      written += bytesWritten;
    }
    this.onWritten(total);
  }
}

function remaining(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
