import { constants } from 'node:fs';
import { Crc64 } from '../crc64-choice';
import { AppError, isAppError } from '../errors';
import { objectKeyProblem } from '../oss/object-key';
import type { ObjectStore, ObjectSummary } from '../oss/object-store';
import { downloadObject, type DownloadOptions } from './download-object';
import { downloadPathProblem } from './download-path';
import { retrying } from './retry';
import { MANIFEST_NAME, SyncManifest } from './sync-manifest';
import { JobFolders } from './job-folders';
import { findJobTarget, refuseNonFile, type TargetFiles } from './target-path';

/**
 * Every object under a prefix to a folder, kept in sync: what `ossutil cp -r`
 * and `aws s3 sync` do, on the single-object core (download-object.ts), so
 * each file is atomic, CRC64-verified and resumable like any download.
 *
 * The listing is read a page at a time and at most `filesParallelism` files
 * are in flight, so a prefix of any size never holds all its keys in memory
 * (the manifest holds one entry per file the service wrote, and `delete`
 * the relative path of every key listed). A key lands at
 * the folder + the key with the prefix removed. What a key cannot safely
 * become (dot segments, a name too long, a key below another key's file) is
 * a failure of that file, never a write elsewhere; the job goes on.
 */
export interface PrefixSpec {
  bucket: string;
  /** Keys that start with it, literally (`reports/` for a folder). */
  prefix: string;
  /** The folder everything is relative to (DOWNLOAD_ROOT, or the command line's folder). */
  root: string;
  /** The job's folder below `root`; '' for `root` itself. */
  folder: string;
  /** Replace files this service did not write (the manifest does not list them). */
  overwrite: boolean;
  /** Remove files the service wrote here whose object is gone. */
  delete: boolean;
}

export interface PrefixOptions extends DownloadOptions {
  /** Files fetched at once (DOWNLOAD_FILES_PARALLELISM). */
  filesParallelism: number;
  /** Keys per listing page. */
  pageSize?: number;
}

export interface FileFailure {
  key: string;
  code: string;
  detail: string;
}

export interface PrefixProgress {
  filesListed: number;
  bytesListed: number;
  /** The listing has ended: the two counts above are the totals. */
  listed: boolean;
  filesDone: number;
  filesSkipped: number;
  filesFailed: number;
  filesDeleted: number;
  /** The first 100 failures. */
  failures: FileFailure[];
}

export interface PrefixListener {
  /** Called whenever a count changes; `progress` is the same object each time. */
  onProgress?(progress: Readonly<PrefixProgress>): void;
  /** Bytes written, as DownloadListener.onBytes; a function property, since it is handed on unbound. */
  onBytes?: (n: number) => void;
}

const MAX_FAILURES = 100;

export async function downloadPrefix(
  store: ObjectStore,
  spec: PrefixSpec,
  options: PrefixOptions,
  signal: AbortSignal,
  listener: PrefixListener = {},
): Promise<PrefixProgress> {
  const progress: PrefixProgress = {
    filesListed: 0,
    bytesListed: 0,
    listed: false,
    filesDone: 0,
    filesSkipped: 0,
    filesFailed: 0,
    filesDeleted: 0,
    failures: [],
  };
  const changed = () => listener.onProgress?.(progress);
  const fail = (key: string, err: unknown) => {
    const error = isAppError(err) ? err : new AppError('InternalError', 'The file could not be written on this host.', { cause: err });
    progress.filesFailed += 1;
    if (progress.failures.length < MAX_FAILURES) progress.failures.push({ key, code: error.code, detail: error.detail });
    changed();
  };

  const manifest = await SyncManifest.open(spec.root, spec.folder, spec.bucket, spec.prefix);
  const folders = new JobFolders(spec.root);
  try {
    // Only `delete` needs the keys that are still there (one string each, as the manifest holds one entry each).
    const seen = new Set<string>();
    const pool = new TaskPool(options.filesParallelism);
    let cursor: string | undefined;
    // A listing page that fails leaves the loop with files still running: they finish (and are published
    // and recorded) before the job ends, because the folders they write through close with it.
    try {
      do {
        const page = await retrying(options.retry, signal, () =>
          store.listObjects({ bucket: spec.bucket, prefix: spec.prefix, limit: options.pageSize ?? 1000, cursor }),
        );
        for (const object of page.objects) {
          if (signal.aborted) break;
          progress.filesListed += 1;
          progress.bytesListed += object.size;
          const relative = object.key.slice(spec.prefix.length);
          if (spec.delete) seen.add(relative);
          changed();
          await pool.run(async () => {
            try {
              const outcome = await syncFile(store, spec, options, signal, listener, { manifest, folders }, object, relative);
              if (outcome === 'skipped') progress.filesSkipped += 1;
              else progress.filesDone += 1;
              changed();
            } catch (err) {
              if (!signal.aborted) fail(object.key, err);
            }
          });
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && !signal.aborted);
    } finally {
      await pool.idle();
    }
    if (signal.aborted) throw signal.reason;
    progress.listed = true;
    changed();
    if (spec.delete) await deleteVanished(spec, manifest, seen, progress, fail);
    return progress;
  } finally {
    await folders.close();
    await manifest.close();
  }
}

type Outcome = 'downloaded' | 'skipped';

async function syncFile(
  store: ObjectStore,
  spec: PrefixSpec,
  options: DownloadOptions,
  signal: AbortSignal,
  listener: PrefixListener,
  { manifest, folders }: { manifest: SyncManifest; folders: JobFolders },
  object: ObjectSummary,
  relative: string,
): Promise<Outcome> {
  // A zero-byte key ending in / is the folder marker consoles create: a folder, not a file.
  if (object.key.endsWith('/') && object.size === 0) return 'skipped';
  const path = spec.folder === '' ? relative : `${spec.folder}/${relative}`;
  const problem = unsafeKey(object.key, relative, path);
  if (problem) throw new AppError('InvalidRequest', `The key cannot become a file here: it ${problem}.`);

  // The file's folder, held open by the job, serves the checks and the download; one look at the target.
  const files = await folders.target(path);
  try {
    const stat = await files.dir.lstat(files.name);
    refuseNonFile(stat, path);
    const written = manifest.entry(relative);
    const existing = stat?.size;
    let overwrite = false;
    if (existing !== undefined) {
      if (written && written.etag === object.etag && written.size === object.size && existing === object.size) return 'skipped';
      if (!written && existing === object.size && (await sameAsObject(store, spec.bucket, object, files))) return 'skipped';
      if (!written && !spec.overwrite) {
        throw new AppError('Conflict', 'A file the service did not write is in the way; send "overwrite": true to replace it.');
      }
      overwrite = true;
    }
    const listed = { size: object.size, etag: object.etag };
    const download = {
      bucket: spec.bucket,
      key: object.key,
      files,
      overwrite,
      targetAbsent: existing === undefined,
      recordedPath: path,
      prefix: spec.prefix,
      listed,
    };
    const result = await downloadObject(store, download, options, signal, { onBytes: listener.onBytes });
    manifest.record(relative, { etag: result.etag, size: result.size, crc64: result.crc64 });
    return 'downloaded';
  } finally {
    await files.release(false);
  }
}

/** Why `key` cannot become the file `path`, or undefined. */
function unsafeKey(key: string, relative: string, path: string): string | undefined {
  if (relative === '' || key.endsWith('/')) return 'names a folder, not a file';
  const keyProblem = objectKeyProblem(key);
  if (keyProblem) return keyProblem;
  if (relative === MANIFEST_NAME) return "is the name of the service's manifest";
  return downloadPathProblem(path);
}

/** Whether the file at the target holds the object's bytes: same CRC-64 as OSS reports (a HEAD, no GET). */
async function sameAsObject(store: ObjectStore, bucket: string, object: ObjectSummary, files: TargetFiles): Promise<boolean> {
  const head = await store.headObject({ bucket, key: object.key, preconditions: {} });
  const remote = head.headers['x-oss-hash-crc64ecma'];
  if (remote === undefined) return false;
  const file = await files.dir.openFile(files.name, constants.O_RDONLY);
  try {
    const crc = new Crc64();
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (let n = (await file.read(buffer, 0, buffer.length)).bytesRead; n > 0; n = (await file.read(buffer, 0, buffer.length)).bytesRead) {
      crc.update(buffer.subarray(0, n));
    }
    return crc.toString() === remote;
  } finally {
    await file.close();
  }
}

/** Removes the files the manifest lists that the listing no longer has; nothing else. */
async function deleteVanished(
  spec: PrefixSpec,
  manifest: SyncManifest,
  seen: ReadonlySet<string>,
  progress: PrefixProgress,
  fail: (key: string, err: unknown) => void,
): Promise<void> {
  for (const relative of manifest.paths()) {
    if (seen.has(relative)) continue;
    const path = spec.folder === '' ? relative : `${spec.folder}/${relative}`;
    try {
      const files = await findJobTarget(spec.root, path);
      try {
        if (files && (await files.dir.lstat(files.name))?.isFile()) await files.dir.unlink(files.name);
      } finally {
        await files?.release(false);
      }
      manifest.forget(relative);
      progress.filesDeleted += 1;
    } catch (err) {
      fail(spec.prefix + relative, err);
    }
  }
}

/** Runs at most `size` tasks at once; `run` resolves when the task has started, so a producer never runs ahead. */
class TaskPool {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly size: number) {}

  async run(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.size) await Promise.race(this.running);
    const promise: Promise<void> = task().finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async idle(): Promise<void> {
    await Promise.all(this.running);
  }
}
