import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { allows, type AllowList } from '../access-policy';
import { isValidBucketName } from '../oss/bucket-name';
import type { Clock } from '../clock';
import type { DownloadsConfig } from '../config';
import { AppError, isAppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { objectKeyProblem } from '../oss/object-key';
import type { ObjectStore } from '../oss/object-store';
import { readCheckpoint, type Checkpoint } from './checkpoint';
import { downloadObject, DownloadSuspended, type DownloadOptions } from './download-object';
import { DownloadJob, isPrefixJob, OPERATOR, type JobRequest, type ObjectJobRequest, type PrefixJobRequest } from './download-job';
import { downloadPrefix } from './prefix-download';
import { CHECKPOINT_SUFFIX, downloadPathProblem } from './download-path';
import { FairQueue } from './fair-queue';
import { DiskSpace, isOutOfSpace, type FreeSpace } from './free-space';
import { findJobTarget, jobTargetExists, openJobTarget } from './target-path';
import { defaultRetryPolicy, type RetryPolicy } from './retry';

/**
 * The jobs behind /v1/downloads: at most `concurrency` run at once, the rest
 * wait, served fairly between callers (fair-queue.ts). Each job belongs to
 * the caller that asked for it. A caller's request for a bucket/key/path it
 * already has queued or running gets that job back instead of a second writer
 * on the same file; another caller's gets 409.
 */
export interface DownloadManagerDeps {
  store: ObjectStore;
  root: string;
  /** OSS_ALLOW: a checkpoint found at start is resumed only if it still allows the object. */
  allow: AllowList;
  config: DownloadsConfig;
  clock: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Backoff between part attempts; tests pass a sleep that does not wait. */
  retry?: RetryPolicy;
  freeSpace?: FreeSpace;
}

/** Finished jobs kept for GET /v1/downloads; the oldest are forgotten first. */
const KEEP_FINISHED = 1000;

export class DownloadManager {
  private readonly jobs = new Map<string, DownloadJob>();
  private readonly queue = new FairQueue<DownloadJob>();
  private readonly space: DiskSpace;
  private running = 0;
  private draining = false;

  constructor(private readonly deps: DownloadManagerDeps) {
    this.space = new DiskSpace(deps.freeSpace);
  }

  /** Starts (or queues) a job; `created` is false when the same caller already had an identical one active. */
  async submit(request: JobRequest): Promise<{ job: DownloadJob; created: boolean }> {
    if (this.draining) throw new AppError('NotReady', 'The service is shutting down; downloads are not accepted.');
    // A prefix job's folder may exist (that is what sync is for); its files are checked one by one.
    const targetExists = !isPrefixJob(request) && (await jobTargetExists(this.deps.root, request.path));
    // No await from here to the insert: concurrent identical requests cannot both pass the check.
    // The path rule makes the path string the file's identity: no two valid strings name one file.
    const writing = [...this.jobs.values()].filter((j) => !j.finished && overlap(j.request, request));
    const same = writing.find((j) => j.request.owner === request.owner && j.request.path === request.path && sameSource(j.request, request));
    if (same) return { job: same, created: false };
    if (writing.length > 0) throw new AppError('Conflict', 'Another download is writing to this path.');
    if (targetExists && !request.overwrite) {
      throw new AppError('Conflict', 'The target file exists; send "overwrite": true to replace it.');
    }
    const job = new DownloadJob(randomUUID(), request, this.deps.clock.now());
    this.jobs.set(job.id, job);
    this.queue.push(request.owner, job);
    this.pump();
    return { job, created: true };
  }

  /** The job, if `viewer` may see it: its owner, or anyone when `viewer` is undefined (open mode). */
  get(id: string, viewer?: string): DownloadJob | undefined {
    const job = this.jobs.get(id);
    return job && (viewer === undefined || job.request.owner === viewer) ? job : undefined;
  }

  /** The jobs `viewer` may see (every job when undefined). */
  list(viewer?: string): DownloadJob[] {
    return [...this.jobs.values()].filter((j) => viewer === undefined || j.request.owner === viewer);
  }

  /** Cancels a queued or running job and waits until its partial files are gone. */
  async cancel(id: string): Promise<DownloadJob | undefined> {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.finished) throw new AppError('Conflict', `The job has already ${job.state}.`);
    if (this.queue.remove(job.request.owner, job)) {
      this.end(job, 'canceled', canceled());
    } else {
      job.abort.abort(canceled());
    }
    await job.done;
    return job;
  }

  /**
   * For shutdown: accept nothing new, stop running jobs with their checkpoints
   * kept (they resume when requested again, or at start with
   * DOWNLOAD_RESUME_ON_START), and resolve once they have stopped.
   */
  async drain(): Promise<void> {
    this.draining = true;
    const suspended = new AppError('NotReady', 'The service shut down during the download; it resumes from its checkpoint.');
    for (const job of this.queue.drain()) this.end(job, 'failed', suspended);
    const active = [...this.jobs.values()].filter((j) => !j.finished);
    for (const job of active) job.abort.abort(new DownloadSuspended());
    await Promise.all(active.map((j) => j.done));
  }

  /**
   * Queues a job for every checkpoint under the root (DOWNLOAD_RESUME_ON_START),
   * owned by the operator, except those a prefix job wrote: that job's rerun
   * continues them. Each is checked as a new request would be, against
   * today's OSS_ALLOW and rules: a checkpoint placed under the root by a local
   * writer, or left by a run with a wider OSS_ALLOW, is discarded with its
   * bytes, never resumed.
   */
  async resumeFromCheckpoints(): Promise<DownloadJob[]> {
    const resumed: DownloadJob[] = [];
    for (const relative of await checkpointedTargets(this.deps.root)) {
      const checkpoint = await this.resumable(relative);
      if (!checkpoint) continue;
      const { bucket, key, overwrite, versionId, prefix } = checkpoint;
      if (prefix !== undefined) {
        // A job of its own would hold the prefix job's folder and refuse that job's rerun with 409; the rerun resumes the file.
        this.deps.logger?.info({ path: relative, bucket, prefix }, "download checkpoint left for its prefix job's rerun");
        continue;
      }
      try {
        const request = { bucket, key, path: relative, overwrite, owner: OPERATOR, ...(versionId === undefined ? {} : { versionId }) };
        resumed.push((await this.submit(request)).job);
      } catch (err) {
        this.deps.logger?.warn({ path: relative, code: isAppError(err) ? err.code : undefined }, 'download checkpoint not resumed');
      }
    }
    return resumed;
  }

  /** The checkpoint of the target at `relative` if it may be resumed; otherwise it is removed with its bytes. */
  private async resumable(relative: string): Promise<Checkpoint | undefined> {
    const files = await findJobTarget(this.deps.root, relative).catch(() => undefined);
    if (!files) {
      this.deps.logger?.warn({ path: relative }, 'download checkpoint not resumed: its folder cannot be opened safely');
      return undefined;
    }
    try {
      const checkpoint = await readCheckpoint(files.dir, files.checkpoint);
      const problem = this.resumeProblem(checkpoint, relative);
      if (problem === undefined) return checkpoint;
      await files.dir.unlinkQuietly(files.temp, files.checkpoint, files.checkpointNext);
      this.deps.logger?.warn({ path: relative, bucket: checkpoint?.bucket, key: checkpoint?.key, problem }, 'download checkpoint discarded');
      return undefined;
    } finally {
      await files.release(false);
    }
  }

  private resumeProblem(checkpoint: Checkpoint | undefined, relative: string): string | undefined {
    if (!checkpoint) return 'unreadable';
    if (checkpoint.path !== relative) return 'it names another path than where it lies';
    if (!isValidBucketName(checkpoint.bucket)) return 'invalid bucket name';
    const keyProblem = objectKeyProblem(checkpoint.key);
    if (keyProblem) return `the key ${keyProblem}`;
    if (!allows(this.deps.allow, checkpoint.bucket, checkpoint.key)) return 'OSS_ALLOW does not include the object';
    return undefined;
  }

  private pump(): void {
    while (this.running < this.deps.config.concurrency && this.queue.size > 0) {
      const job = this.queue.start()!;
      this.running++;
      this.deps.metrics?.downloadsActive.inc();
      void this.run(job).finally(() => {
        this.running--;
        this.queue.finished(job.request.owner);
        this.deps.metrics?.downloadsActive.dec();
        this.pump();
      });
    }
  }

  private async run(job: DownloadJob): Promise<void> {
    job.state = 'running';
    job.startedAt = this.deps.clock.now();
    try {
      if (isPrefixJob(job.request)) await this.runPrefix(job, job.request);
      else await this.runObject(job, job.request);
      this.end(job, 'succeeded');
    } catch (err) {
      this.endWithError(job, err);
    }
  }

  private async runObject(job: DownloadJob, request: ObjectJobRequest): Promise<void> {
    const { metrics } = this.deps;
    const files = await openJobTarget(this.deps.root, request.path);
    try {
      const result = await downloadObject(
        this.deps.store,
        { bucket: request.bucket, key: request.key, versionId: request.versionId, files, overwrite: request.overwrite, recordedPath: request.path },
        this.options(),
        job.abort.signal,
        {
          onStart: (info) => {
            job.bytesTotal = info.size;
            job.bytesDone = info.resumedBytes;
            job.resumedBytes = info.resumedBytes;
          },
          onBytes: (n) => this.countBytes(job, n),
          onPartRetry: () => metrics?.downloadPartRetries.inc(),
          onCrcFailure: () => metrics?.downloadCrcFailures.inc(),
        },
      );
      job.crc64 = result.crc64;
      await files.release(false);
    } catch (err) {
      // A suspended job keeps its folders: its checkpoint is in them.
      await files.release(!(err instanceof DownloadSuspended));
      throw err;
    }
  }

  /** A prefix job: every file as runObject does one; the job fails, with its counts, when any file did. */
  private async runPrefix(job: DownloadJob, request: PrefixJobRequest): Promise<void> {
    const { bucket, prefix, path: folder, overwrite } = request;
    const progress = await downloadPrefix(
      this.deps.store,
      { bucket, prefix, root: this.deps.root, folder, overwrite, delete: request.delete },
      { ...this.options(), filesParallelism: this.deps.config.filesParallelism },
      job.abort.signal,
      {
        onProgress: (p) => {
          job.prefixProgress = p;
          if (p.listed) job.bytesTotal = p.bytesListed;
        },
        onBytes: (n) => this.countBytes(job, n),
      },
    );
    if (progress.filesFailed > 0) {
      const first = progress.failures[0];
      throw new AppError(
        'IncompleteDownload',
        `${progress.filesFailed} of ${progress.filesListed} files failed (the first, ${first.key}: ${first.code}); ${progress.filesDone} downloaded, ${progress.filesSkipped} already in place. The job's failures list them.`,
      );
    }
  }

  private countBytes(job: DownloadJob, n: number): void {
    job.bytesDone += n;
    if (n > 0) this.deps.metrics?.downloadBytes.inc(n);
  }

  private endWithError(job: DownloadJob, err: unknown): void {
    if (err instanceof DownloadSuspended) {
      this.end(job, 'failed', new AppError('NotReady', 'The service shut down during the download; it resumes from its checkpoint.'));
      return;
    }
    if (isAppError(err) && err.code === 'DownloadCanceled') {
      this.end(job, 'canceled', err);
      return;
    }
    const error = isAppError(err)
      ? err
      : isOutOfSpace(err)
        ? new AppError('InsufficientStorage', 'The disk is full under the download folder.', { cause: err })
        : new AppError('InternalError', 'The download failed on this host.', { cause: err });
    this.deps.logger?.warn({ jobId: job.id, code: error.code, cause: isAppError(err) ? undefined : String(err) }, 'download failed');
    this.end(job, 'failed', error);
  }

  private end(job: DownloadJob, state: 'succeeded' | 'failed' | 'canceled', error: AppError | null = null): void {
    const now = this.deps.clock.now();
    job.finish(state, now, error);
    this.deps.metrics?.downloadJobs.inc({ state });
    if (job.startedAt !== null) this.deps.metrics?.downloadDuration.observe({ state }, (now - job.startedAt) / 1000);
    this.forgetOldJobs();
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.values()].filter((j) => j.finished);
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.id);
  }

  private options(): DownloadOptions {
    const { config } = this.deps;
    return {
      thresholdBytes: config.thresholdBytes,
      partSizeBytes: config.partSizeBytes,
      parallelism: config.parallelism,
      retry: this.deps.retry ?? defaultRetryPolicy,
      space: this.space,
    };
  }
}

function canceled(): AppError {
  return new AppError('DownloadCanceled', 'The download was canceled; its partial file was removed.');
}

/** Same bucket and key, or same bucket and prefix (and sync options): the same job asked for again. */
function sameSource(a: JobRequest, b: JobRequest): boolean {
  if (a.bucket !== b.bucket) return false;
  if (isPrefixJob(a) || isPrefixJob(b)) {
    return isPrefixJob(a) && isPrefixJob(b) && a.prefix === b.prefix && a.delete === b.delete && a.overwrite === b.overwrite;
  }
  return a.key === b.key && a.versionId === b.versionId;
}

/** Two jobs that would write the same file: the same path, or a file inside a prefix job's folder. */
function overlap(a: JobRequest, b: JobRequest): boolean {
  return a.path === b.path || (isPrefixJob(a) && b.path.startsWith(`${a.path}/`)) || (isPrefixJob(b) && a.path.startsWith(`${b.path}/`));
}

/**
 * The target path (relative to the root) of every checkpoint under `root`,
 * found without following symlinks; names that no valid path could have
 * left are not listed.
 */
async function checkpointedTargets(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.startsWith('.') && e.name.endsWith(CHECKPOINT_SUFFIX))
    .map((e) =>
      path
        .relative(root, path.join(e.parentPath, e.name.slice(1, -CHECKPOINT_SUFFIX.length)))
        .split(path.sep)
        .join('/'),
    )
    .filter((relative) => downloadPathProblem(relative) === undefined);
}
