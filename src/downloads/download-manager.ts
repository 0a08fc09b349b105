import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock';
import type { DownloadsConfig } from '../config';
import { AppError, isAppError } from '../errors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { ObjectStore } from '../oss/object-store';
import { CHECKPOINT_SUFFIX, resolveTarget } from './target-path';
import { readCheckpoint } from './checkpoint';
import { downloadObject, DownloadSuspended, type DownloadOptions } from './download-object';
import { DownloadJob, type JobRequest } from './download-job';
import { statfsFreeSpace, type FreeSpace } from './free-space';
import { defaultRetryPolicy, type RetryPolicy } from './retry';

/**
 * The jobs behind /v1/downloads: at most `concurrency` run at once, the rest
 * wait in order. A request for a bucket/key/path that is already queued or
 * running gets that job back instead of a second writer on the same file.
 */
export interface DownloadManagerDeps {
  store: ObjectStore;
  root: string;
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
  private readonly queue: DownloadJob[] = [];
  /** Job id → the absolute file it writes. */
  private readonly targets = new Map<string, string>();
  private running = 0;
  private draining = false;

  constructor(private readonly deps: DownloadManagerDeps) {}

  /** Starts (or queues) a job; `created` is false when an identical one was already active. */
  async submit(request: JobRequest): Promise<{ job: DownloadJob; created: boolean }> {
    if (this.draining) throw new AppError('NotReady', 'The service is shutting down; downloads are not accepted.');
    const files = await resolveTarget(this.deps.root, request.path);
    const targetExists = await exists(files.target);
    // No await from here to the insert: concurrent identical requests cannot both pass the check.
    const writing = [...this.jobs.values()].filter((j) => !j.finished && this.targetOf(j) === files.target);
    const same = writing.find((j) => sameObject(j.request, request));
    if (same) return { job: same, created: false };
    if (writing.length > 0) throw new AppError('Conflict', 'Another download is writing to this path.');
    if (targetExists && !request.overwrite) {
      throw new AppError('Conflict', 'The target file exists; send "overwrite": true to replace it.');
    }
    const job = new DownloadJob(randomUUID(), request, this.deps.clock.now());
    this.targets.set(job.id, files.target);
    this.jobs.set(job.id, job);
    this.queue.push(job);
    this.pump();
    return { job, created: true };
  }

  get(id: string): DownloadJob | undefined {
    return this.jobs.get(id);
  }

  list(): DownloadJob[] {
    return [...this.jobs.values()];
  }

  /** Cancels a queued or running job and waits until its partial files are gone. */
  async cancel(id: string): Promise<DownloadJob | undefined> {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.finished) throw new AppError('Conflict', `The job has already ${job.state}.`);
    const queued = this.queue.indexOf(job);
    if (queued !== -1) {
      this.queue.splice(queued, 1);
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
    for (const job of this.queue.splice(0)) this.end(job, 'failed', suspended);
    const active = [...this.jobs.values()].filter((j) => !j.finished);
    for (const job of active) job.abort.abort(new DownloadSuspended());
    await Promise.all(active.map((j) => j.done));
  }

  /** Queues a job for every checkpoint under the root (DOWNLOAD_RESUME_ON_START). */
  async resumeFromCheckpoints(): Promise<DownloadJob[]> {
    const resumed: DownloadJob[] = [];
    for (const file of await findCheckpoints(this.deps.root)) {
      const checkpoint = await readCheckpoint(file);
      if (!checkpoint) continue;
      const request = { bucket: checkpoint.bucket, key: checkpoint.key, path: checkpoint.path, overwrite: checkpoint.overwrite };
      try {
        resumed.push((await this.submit(request)).job);
      } catch (err) {
        this.deps.logger?.warn({ checkpoint: file, code: isAppError(err) ? err.code : undefined }, 'download checkpoint not resumed');
      }
    }
    return resumed;
  }

  private targetOf(job: DownloadJob): string | undefined {
    return this.targets.get(job.id);
  }

  private pump(): void {
    while (this.running < this.deps.config.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      this.deps.metrics?.downloadsActive.inc();
      void this.run(job).finally(() => {
        this.running--;
        this.deps.metrics?.downloadsActive.dec();
        this.pump();
      });
    }
  }

  private async run(job: DownloadJob): Promise<void> {
    const { clock, metrics } = this.deps;
    job.state = 'running';
    job.startedAt = clock.now();
    try {
      const files = await resolveTarget(this.deps.root, job.request.path);
      const result = await downloadObject(
        this.deps.store,
        { bucket: job.request.bucket, key: job.request.key, files, overwrite: job.request.overwrite, label: job.request.path },
        this.options(),
        job.abort.signal,
        {
          onStart: (info) => {
            job.bytesTotal = info.size;
            job.bytesDone = info.resumedBytes;
            job.resumedBytes = info.resumedBytes;
          },
          onBytes: (n) => {
            job.bytesDone += n;
            if (n > 0) metrics?.downloadBytes.inc(n);
          },
          onPartRetry: () => metrics?.downloadPartRetries.inc(),
          onCrcFailure: () => metrics?.downloadCrcFailures.inc(),
        },
      );
      job.crc64 = result.crc64;
      this.end(job, 'succeeded');
    } catch (err) {
      this.endWithError(job, err);
    }
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
    const error = isAppError(err) ? err : new AppError('InternalError', 'The download failed on this host.', { cause: err });
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
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.jobs.delete(job.id);
      this.targets.delete(job.id);
    }
  }

  private options(): DownloadOptions {
    const { config } = this.deps;
    return {
      thresholdBytes: config.thresholdBytes,
      partSizeBytes: config.partSizeBytes,
      parallelism: config.parallelism,
      retry: this.deps.retry ?? defaultRetryPolicy,
      freeSpace: this.deps.freeSpace ?? statfsFreeSpace,
    };
  }
}

function canceled(): AppError {
  return new AppError('DownloadCanceled', 'The download was canceled; its partial file was removed.');
}

function sameObject(a: JobRequest, b: JobRequest): boolean {
  return a.bucket === b.bucket && a.key === b.key;
}

function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

/** Every checkpoint file under `root`, without following symlinks. */
async function findCheckpoints(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(CHECKPOINT_SUFFIX))
    .map((e) => path.join(e.parentPath, e.name));
}
