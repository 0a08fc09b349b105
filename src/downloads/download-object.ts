import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc64Combine } from '../crc64';
import { AppError, isAppError } from '../errors';
import type { ObjectStore } from '../oss/object-store';
import { BackgroundFlush } from './background-flush';
import { CheckpointSaver, verifyRecordedParts } from './checkpoint-saver';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint';
import { publish } from './publish';
import { fetchPart, type ObjectVersion } from './fetch-part';
import { isOutOfSpace, type DiskSpace, type SpaceReservation } from './free-space';
import { partLength, planParts, type Part } from './part-plan';
import { retrying, type RetryPolicy } from './retry';
import type { TargetFiles } from './target-path';

/**
 * One object to one local file: the core both the jobs API and the
 * `oss-download` command line run.
 *
 * Bytes go to a temporary file beside the target, in parallel ranged parts
 * pinned to the object's ETag. The target appears only after every byte is
 * written and flushed (file, then folder) and the combined CRC64 of the parts
 * equals the `x-oss-hash-crc64ecma` OSS reported: a reader never sees a
 * partial or corrupt target. A checkpoint beside the temporary file lets an
 * interrupted download resume without fetching a verified part again.
 */

export interface DownloadSpec {
  bucket: string;
  key: string;
  /** One version of the object; the latest when absent. */
  versionId?: string;
  files: TargetFiles;
  overwrite: boolean;
  /** The path as the caller named it, recorded in the checkpoint for resuming. */
  recordedPath: string;
  /** The prefix job this file is part of (its prefix), recorded in the checkpoint: that job resumes it, not a job of its own. */
  prefix?: string;
  /**
   * The caller has just seen nothing at the target (a prefix job's check), so
   * it is not looked at again; the publishing link still refuses a file that
   * appeared since.
   */
  targetAbsent?: boolean;
  /**
   * Size and ETag from a listing (a prefix job). An object of one part is then
   * fetched without a HEAD first: one GET pinned to that ETag, whose answer
   * carries the CRC64 to check. If the object changed since the listing, the
   * download starts over with a HEAD, as without it.
   */
  listed?: { size: number; etag: string };
}

export interface DownloadOptions {
  thresholdBytes: number;
  partSizeBytes: number;
  parallelism: number;
  retry: RetryPolicy;
  /** Free space, shared with the other jobs running at the same time. */
  space: DiskSpace;
}

export interface DownloadListener {
  onStart?(info: { size: number; etag: string; resumedBytes: number }): void;
  /** Bytes written; negative when a failed part's bytes are given back. */
  onBytes?(n: number): void;
  onPartRetry?(): void;
  onCrcFailure?(): void;
}

export interface DownloadResult {
  size: number;
  etag: string;
  /** Decimal, as OSS writes it. */
  crc64: string;
  /** False only when OSS sent no CRC64 to compare with (the size still was). */
  crcVerified: boolean;
  resumedBytes: number;
  partsFetched: number;
}

/**
 * An abort reason that keeps the temporary file and checkpoint for a later
 * resume (shutdown, Ctrl-C); any other abort or failure removes them.
 */
export class DownloadSuspended extends Error {
  constructor(message = 'the download was suspended; it resumes from its checkpoint') {
    super(message);
    this.name = 'DownloadSuspended';
  }
}

export async function downloadObject(
  store: ObjectStore,
  spec: DownloadSpec,
  options: DownloadOptions,
  signal: AbortSignal,
  listener: DownloadListener = {},
): Promise<DownloadResult> {
  try {
    return await run(store, spec, options, signal, listener);
  } catch (err) {
    const suspended = signal.aborted && signal.reason instanceof DownloadSuspended;
    const { dir, temp, checkpoint, checkpointNext } = spec.files;
    if (!suspended) await dir.unlinkQuietly(temp, checkpoint, checkpointNext);
    if (signal.aborted) throw signal.reason;
    throw isOutOfSpace(err)
      ? new AppError('InsufficientStorage', 'The disk filled up during the download; the partial file was removed.', { cause: err })
      : err;
  }
}

async function run(
  store: ObjectStore,
  spec: DownloadSpec,
  options: DownloadOptions,
  signal: AbortSignal,
  listener: DownloadListener,
): Promise<DownloadResult> {
  const { listed } = spec;
  if (listed && planParts(listed.size, options.partSizeBytes, options.thresholdBytes).length <= 1) {
    try {
      const object = { bucket: spec.bucket, key: spec.key, versionId: spec.versionId, ...listed };
      return await download(store, spec, options, signal, listener, { object, crc64: undefined });
    } catch (err) {
      // The listing is older than the object: ask OSS what it is now.
      if (!isAppError(err) || err.code !== 'ObjectChanged' || signal.aborted) throw err;
    }
  }
  // A 5xx or a dropped connection on the HEAD is retried like one on a part.
  return download(store, spec, options, signal, listener, await retrying(options.retry, signal, () => headObject(store, spec)));
}

/** What a download knows of the object before its first byte; `crc64` undefined: take it from the GET's answer. */
interface ObjectFound {
  object: ObjectVersion;
  crc64: string | null | undefined;
}

async function download(
  store: ObjectStore,
  spec: DownloadSpec,
  options: DownloadOptions,
  signal: AbortSignal,
  listener: DownloadListener,
  { object, crc64 }: ObjectFound,
): Promise<DownloadResult> {
  if (!spec.overwrite && !spec.targetAbsent) await refuseExisting(spec.files);
  // One part is never recorded (fetchAndPublish): there is no checkpoint to look for.
  const parts = planParts(object.size, options.partSizeBytes, options.thresholdBytes).length;
  const checkpoint = parts > 1 ? await resumableCheckpoint(spec, object, options) : undefined;
  const onDisk = checkpoint ? await allocatedBytes(spec.files) : 0;
  const reservation = await options.space.reserve(spec.files.dir, object.size - onDisk);
  try {
    return await fetchAndPublish(store, spec, options, signal, withReservation(listener, reservation), object, crc64, checkpoint);
  } finally {
    reservation.release();
  }
}

/** The listener, also telling the reservation of every byte written. */
function withReservation(listener: DownloadListener, reservation: SpaceReservation): DownloadListener {
  return {
    ...listener,
    onBytes: (n) => {
      reservation.written(n);
      listener.onBytes?.(n);
    },
  };
}

async function fetchAndPublish(
  store: ObjectStore,
  spec: DownloadSpec,
  options: DownloadOptions,
  signal: AbortSignal,
  listener: DownloadListener,
  object: ObjectVersion,
  known: string | null | undefined,
  checkpoint: Checkpoint | undefined,
): Promise<DownloadResult> {
  let crc64 = known;
  const fromAnswer = (headers: Readonly<Record<string, string>>) => (crc64 ??= headers['x-oss-hash-crc64ecma'] ?? null);
  const plan = planParts(object.size, options.partSizeBytes, options.thresholdBytes);
  const record: Checkpoint = checkpoint ?? {
    version: 1,
    bucket: spec.bucket,
    key: spec.key,
    ...(spec.versionId === undefined ? {} : { versionId: spec.versionId }),
    ...(spec.prefix === undefined ? {} : { prefix: spec.prefix }),
    path: spec.recordedPath,
    overwrite: spec.overwrite,
    etag: object.etag,
    size: object.size,
    crc64: crc64 ?? null,
    partSize: options.partSizeBytes,
    thresholdBytes: options.thresholdBytes,
    parts: {},
  };
  // Without a checkpoint nothing at the temporary name is worth keeping: a new file, never one found there.
  const { dir, temp } = spec.files;
  const file = checkpoint ? await dir.openFile(temp, constants.O_RDWR | constants.O_CREAT) : await dir.createFile(temp, constants.O_RDWR);
  try {
    if (checkpoint) await verifyRecordedParts(file, plan, record);
    else if (plan.length > 1) await file.truncate(object.size); // parts land at their offsets; a resume checks the size
    const resumedBytes = plan.filter((p) => record.parts[p.index] !== undefined).reduce((n, p) => n + partLength(p), 0);
    listener.onStart?.({ size: object.size, etag: object.etag, resumedBytes });
    // One part has nothing to resume from: an interrupted stream starts again. Small files (most of a
    // prefix job) so skip the record's writes and the background flush, two file creations and renames each.
    const recorded = plan.length > 1;
    if (recorded) await writeCheckpoint(spec.files, record);
    const pending = plan.filter((p) => record.parts[p.index] === undefined);
    await fetchParts(store, object, pending, file, { record, recorded }, spec, options, signal, listener, fromAnswer);
    const combined = combinedCrc(plan, record);
    if (crc64 != null && combined !== crc64) {
      listener.onCrcFailure?.();
      throw new AppError(
        'ChecksumMismatch',
        `The CRC64 of the downloaded bytes (${combined}) is not the ${crc64} OSS reported for ${spec.bucket}/${spec.key}; the file was discarded.`,
      );
    }
    await file.sync();
    await file.close();
    await publish(spec.files, spec.overwrite);
    return { size: object.size, etag: object.etag, crc64: combined, crcVerified: crc64 != null, resumedBytes, partsFetched: pending.length };
  } finally {
    await file.close().catch(() => undefined);
  }
}

async function headObject(store: ObjectStore, spec: DownloadSpec): Promise<{ object: ObjectVersion; crc64: string | null }> {
  const head = await store.headObject({ bucket: spec.bucket, key: spec.key, versionId: spec.versionId, preconditions: {} });
  const size = Number(head.headers['content-length']);
  const etag = head.headers.etag;
  if (!Number.isSafeInteger(size) || size < 0 || !etag) {
    throw new AppError('UpstreamUnavailable', `OSS did not say the size and ETag of ${spec.bucket}/${spec.key}.`);
  }
  const object = { bucket: spec.bucket, key: spec.key, size, etag, versionId: spec.versionId };
  return { object, crc64: head.headers['x-oss-hash-crc64ecma'] ?? null };
}

async function refuseExisting(files: TargetFiles): Promise<void> {
  if (await files.dir.lstat(files.name)) throw new AppError('Conflict', 'The target file exists; send "overwrite": true to replace it.');
}

/** The checkpoint left by an earlier run, if it describes this object version and its bytes are still there. */
async function resumableCheckpoint(spec: DownloadSpec, object: ObjectVersion, options: DownloadOptions): Promise<Checkpoint | undefined> {
  const { dir, temp: tempName, checkpoint } = spec.files;
  const found = await readCheckpoint(dir, checkpoint);
  const temp = await dir.lstat(tempName);
  const usable =
    found !== undefined &&
    temp?.isFile() === true &&
    temp.size === object.size &&
    found.bucket === spec.bucket &&
    found.key === spec.key &&
    found.versionId === spec.versionId &&
    found.etag === object.etag &&
    found.size === object.size &&
    found.partSize === options.partSizeBytes &&
    found.thresholdBytes === options.thresholdBytes;
  if (usable) return found;
  await dir.unlinkQuietly(tempName, checkpoint);
  return undefined;
}

/** Bytes the (sparse) temporary file already holds on disk. */
async function allocatedBytes(files: TargetFiles): Promise<number> {
  const stat = await files.dir.lstat(files.temp);
  return stat ? Math.min(stat.size, stat.blocks * 512) : 0;
}

/**
 * Runs `parallelism` workers over the pending parts. A part that fails in a
 * retryable way is fetched again after a backoff; the first fatal failure
 * stops every worker.
 */
async function fetchParts(
  store: ObjectStore,
  object: ObjectVersion,
  pending: Part[],
  file: FileHandle,
  /** Finished parts go into `record`, saved to the checkpoint file only when `recorded` (not for one part). */
  { record, recorded }: { record: Checkpoint; recorded: boolean },
  spec: DownloadSpec,
  options: DownloadOptions,
  outer: AbortSignal,
  listener: DownloadListener,
  onHeaders: (headers: Readonly<Record<string, string>>) => void,
): Promise<void> {
  const stop = new AbortController();
  const signal = AbortSignal.any([outer, stop.signal]);
  const queue = [...pending];
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
    stop.abort();
  };
  const saver = recorded ? new CheckpointSaver(spec.files, record, fail) : undefined;
  const flush = recorded ? new BackgroundFlush(file) : undefined;

  const worker = async () => {
    for (let part = queue.shift(); part && !signal.aborted; part = queue.shift()) {
      try {
        const crc = await fetchWithRetries(store, object, part, file, options.retry, signal, listener, onHeaders);
        flush?.request();
        if (saver) saver.partDone(part.index, crc);
        else record.parts[part.index] = crc.toString();
      } catch (err) {
        fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallelism, pending.length) }, worker));
  // Every write settles before this returns: a failed job removes its files, and no late write may bring one back.
  await Promise.all([saver?.flushed(), flush?.idle()]);
  if (outer.aborted) throw outer.reason;
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first worker's failure, rethrown as it was caught
  if (failure !== undefined) throw failure;
}

async function fetchWithRetries(
  store: ObjectStore,
  object: ObjectVersion,
  part: Part,
  file: FileHandle,
  retry: RetryPolicy,
  signal: AbortSignal,
  listener: DownloadListener,
  onHeaders: (headers: Readonly<Record<string, string>>) => void,
): Promise<bigint> {
  return retrying(
    retry,
    signal,
    async () => {
      let written = 0;
      try {
        return await fetchPart(
          store,
          object,
          part,
          file,
          signal,
          (n) => {
            written += n;
            listener.onBytes?.(n);
          },
          onHeaders,
        );
      } catch (err) {
        listener.onBytes?.(-written); // the part starts again from its first byte
        throw err;
      }
    },
    () => listener.onPartRetry?.(),
  );
}

function combinedCrc(plan: Part[], record: Checkpoint): string {
  let crc = 0n;
  for (const part of plan) crc = crc64Combine(crc, BigInt(record.parts[part.index]), partLength(part));
  return crc.toString();
}
