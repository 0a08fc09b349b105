import type { AppError } from '../errors';
import type { FileFailure, PrefixProgress } from './prefix-download';

/** One download job as the API shows it. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

/** The owner of jobs resumed from checkpoints at start: visible in open mode, to no token. */
export const OPERATOR = '(operator)';

interface JobRequestBase {
  /** Who asked for it (a token's name, or the open caller): only they see and cancel it. */
  owner: string;
  bucket: string;
  /** Relative to DOWNLOAD_ROOT, as the caller sent it: the file, or a prefix job's folder. */
  path: string;
  overwrite: boolean;
}

/** One object to one file. */
export interface ObjectJobRequest extends JobRequestBase {
  key: string;
  /** One version of the object; the latest when absent. */
  versionId?: string;
}

/** Every object under `prefix` to the folder `path`, kept in sync (prefix-download.ts). */
export interface PrefixJobRequest extends JobRequestBase {
  prefix: string;
  /** Remove files the service wrote into the folder whose object is gone. */
  delete: boolean;
}

export type JobRequest = ObjectJobRequest | PrefixJobRequest;

export function isPrefixJob(request: JobRequest): request is PrefixJobRequest {
  return 'prefix' in request;
}

/** The counts a prefix job adds to its view. */
export interface PrefixJobCounts {
  /** Known once the listing has ended; null before. */
  filesTotal: number | null;
  filesDone: number;
  filesSkipped: number;
  filesFailed: number;
  filesDeleted: number;
  /** The first 100 files that failed, each with its key and problem code. */
  failures: FileFailure[];
}

export interface JobView extends Partial<PrefixJobCounts> {
  id: string;
  kind: 'object' | 'prefix';
  owner: string;
  bucket: string;
  key?: string;
  versionId?: string;
  prefix?: string;
  delete?: boolean;
  path: string;
  overwrite: boolean;
  state: JobState;
  bytesDone: number;
  bytesTotal: number | null;
  /** Bytes per second over this run (resumed bytes not counted). */
  throughput: number | null;
  crc64: string | null;
  /** Why the job failed or was canceled; the API shows it as problem+json fields (routes/downloads.ts). */
  error: AppError | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export class DownloadJob {
  state: JobState = 'queued';
  bytesDone = 0;
  bytesTotal: number | null = null;
  crc64: string | null = null;
  error: AppError | null = null;
  startedAt: number | null = null;
  finishedAt: number | null = null;
  /** Bytes that were on disk from a checkpoint when this run started. */
  resumedBytes = 0;
  /** A prefix job's counts, as the running job updates them. */
  prefixProgress: Readonly<PrefixProgress> | null = null;
  readonly abort = new AbortController();
  readonly done: Promise<void>;
  private settle!: () => void;

  constructor(
    readonly id: string,
    readonly request: JobRequest,
    readonly createdAt: number,
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  get finished(): boolean {
    return this.state === 'succeeded' || this.state === 'failed' || this.state === 'canceled';
  }

  finish(state: 'succeeded' | 'failed' | 'canceled', at: number, error: AppError | null = null): void {
    this.state = state;
    this.error = error;
    this.finishedAt = at;
    this.settle();
  }

  view(now: number): JobView {
    const end = this.finishedAt ?? now;
    const seconds = this.startedAt === null ? 0 : (end - this.startedAt) / 1000;
    const fetched = this.bytesDone - this.resumedBytes;
    return {
      id: this.id,
      kind: isPrefixJob(this.request) ? 'prefix' : 'object',
      ...this.request,
      ...(isPrefixJob(this.request) ? prefixCounts(this.prefixProgress) : {}),
      state: this.state,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      throughput: seconds > 0 ? Math.round(fetched / seconds) : null,
      crc64: this.crc64,
      error: this.error,
      createdAt: new Date(this.createdAt).toISOString(),
      startedAt: this.startedAt === null ? null : new Date(this.startedAt).toISOString(),
      finishedAt: this.finishedAt === null ? null : new Date(this.finishedAt).toISOString(),
    };
  }
}

function prefixCounts(progress: Readonly<PrefixProgress> | null): PrefixJobCounts {
  return {
    filesTotal: progress?.listed ? progress.filesListed : null,
    filesDone: progress?.filesDone ?? 0,
    filesSkipped: progress?.filesSkipped ?? 0,
    filesFailed: progress?.filesFailed ?? 0,
    filesDeleted: progress?.filesDeleted ?? 0,
    failures: progress ? [...progress.failures] : [],
  };
}
