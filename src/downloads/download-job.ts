import type { AppError, ErrorCode } from '../errors';
import { problemBody } from '../http/problem';

/** One download job as the API shows it. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

/** The owner of jobs resumed from checkpoints at start: visible in open mode, to no token. */
export const OPERATOR = '(operator)';

export interface JobRequest {
  /** Who asked for it (a token's name, or the open caller): only they see and cancel it. */
  owner: string;
  bucket: string;
  key: string;
  /** Relative to DOWNLOAD_ROOT, as the caller sent it. */
  path: string;
  overwrite: boolean;
}

export interface JobProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export interface JobView {
  id: string;
  owner: string;
  bucket: string;
  key: string;
  path: string;
  overwrite: boolean;
  state: JobState;
  bytesDone: number;
  bytesTotal: number | null;
  /** Bytes per second over this run (resumed bytes not counted). */
  throughput: number | null;
  crc64: string | null;
  error: JobProblem | null;
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
      ...this.request,
      state: this.state,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      throughput: seconds > 0 ? Math.round(fetched / seconds) : null,
      crc64: this.crc64,
      error: this.error && problemOf(this.error),
      createdAt: new Date(this.createdAt).toISOString(),
      startedAt: this.startedAt === null ? null : new Date(this.startedAt).toISOString(),
      finishedAt: this.finishedAt === null ? null : new Date(this.finishedAt).toISOString(),
    };
  }
}

/** The problem+json fields of the error, without a request id: a job outlives the request that started it. */
function problemOf(err: AppError): JobProblem {
  const { requestId: _requestId, ...problem } = problemBody(err, '');
  return problem;
}
