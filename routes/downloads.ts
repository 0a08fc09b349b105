import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { allows, type AllowList } from '../src/access-policy';
import { isValidBucketName } from '../src/oss/bucket-name';
import { acquireDownloadSlot, callerOwner, OPEN_CALLER, requireDownloadPath, requireScope } from '../src/auth/caller-access';
import type { ConcurrencyLimiter } from '../src/auth/concurrency-limiter';
import type { Clock } from '../src/clock';
import type { DownloadJob, JobRequest, JobView } from '../src/downloads/download-job';
import type { DownloadManager } from '../src/downloads/download-manager';
import { downloadPath } from '../src/downloads/download-path';
import { AppError } from '../src/errors';
import { bodyOf, jsonBody } from '../src/http/json-body';
import { problemFields, type ProblemFields } from '../src/http/problem';
import { validate } from '../src/http/validate';
import { objectKey, objectKeyPrefix, objectVersionId } from '../src/oss/object-key';

/**
 * POST /v1/downloads: download an object to a file under DOWNLOAD_ROOT.
 * GET /v1/downloads, GET /v1/downloads/{id}: the caller's jobs.
 * DELETE /v1/downloads/{id}: cancel one; its partial file is removed.
 *
 * A job belongs to the caller that created it: another caller's job is 404,
 * as an unknown id is. With the service open there is one caller, who sees all.
 */
export interface DownloadRoutesDeps {
  downloads: DownloadManager;
  allow: AllowList;
  clock: Clock;
  /** Per-caller cap on downloads queued or running (MAX_DOWNLOADS_PER_TOKEN): a slot is held until the job ends. */
  downloadLimiter: ConcurrencyLimiter;
  /** JSON_BODY_LIMIT_BYTES: a job body is a few hundred bytes. */
  maxBodyBytes: number;
}

/** One object (`key`) to the file `path`, or every object under `prefix` to the folder `path`. */
const downloadBody = z
  .strictObject({
    bucket: z.string().refine(isValidBucketName, 'must be a valid bucket name (3 to 63 lower-case letters, digits and hyphens)'),
    key: objectKey.optional(),
    /** One version of `key` (a versioned bucket); the latest when absent. */
    versionId: objectVersionId.optional(),
    prefix: objectKeyPrefix.optional(),
    path: downloadPath,
    overwrite: z.boolean().default(false),
    delete: z.boolean().optional(),
  })
  .refine((b) => (b.key === undefined) !== (b.prefix === undefined), 'give either key (one object) or prefix (every object under it)')
  .refine((b) => b.delete === undefined || b.prefix !== undefined, 'delete goes with prefix only')
  .refine((b) => b.versionId === undefined || b.key !== undefined, 'versionId goes with key only (a prefix job downloads the latest versions)');

/** The job the body asks for, as the download manager takes it. */
function jobRequest(body: z.infer<typeof downloadBody>, owner: string): JobRequest {
  const { bucket, path, overwrite } = body;
  if (body.prefix !== undefined) return { owner, bucket, prefix: body.prefix, path, overwrite, delete: body.delete ?? false };
  return { owner, bucket, key: body.key!, path, overwrite, ...(body.versionId === undefined ? {} : { versionId: body.versionId }) };
}

const postQuery = z.object({ wait: z.enum(['1', 'true', '0', 'false']).optional() });

export function downloadRoutes(deps: DownloadRoutesDeps): Router {
  const router = Router();

  router.post('/v1/downloads', ...jsonBody(deps.maxBodyBytes), async (req, res) => {
    requireScope(req, 'downloads');
    const body = bodyOf(req, downloadBody);
    const wait = validate(postQuery, req.query, 'query').wait;
    // A prefix job writes inside the folder `path`: the caller's downloads prefix must cover what is below it.
    requireDownloadPath(req, body.prefix === undefined ? body.path : `${body.path}/`);
    // A key, or a prefix as a listing is checked: every key under it must be readable.
    const source = body.key ?? body.prefix!;
    requireScope(req, { bucket: body.bucket, key: source });
    if (!allows(deps.allow, body.bucket, source)) {
      throw new AppError('NotAllowed', `This service is not configured to read ${body.bucket}/${source} (see OSS_ALLOW).`);
    }
    const job = await submitWithSlot(deps, req, jobRequest(body, callerOwner(req)));
    res.set('Location', `/v1/downloads/${job.id}`);
    if (wait === '1' || wait === 'true') {
      await untilDone(job, req);
      if (job.error) throw job.error;
      sendJob(res, deps.clock, job, 201);
      return;
    }
    sendJob(res, deps.clock, job, 202);
  });

  router.get('/v1/downloads', (req, res) => {
    requireScope(req, 'downloads');
    res.json({ jobs: deps.downloads.list(viewer(req)).map((j) => jobBody(j, deps.clock.now())) });
  });

  router.get('/v1/downloads/:id', (req, res) => {
    requireScope(req, 'downloads');
    sendJob(res, deps.clock, findJob(deps.downloads, req), 200);
  });

  router.delete('/v1/downloads/:id', async (req, res) => {
    requireScope(req, 'downloads');
    const job = await deps.downloads.cancel(findJob(deps.downloads, req).id);
    sendJob(res, deps.clock, job!, 200);
  });

  const methodNotAllowed = (allow: string) => () => {
    throw new AppError('MethodNotAllowed', `Use ${allow} here.`, { headers: { Allow: allow } });
  };
  router.all('/v1/downloads', methodNotAllowed('GET, POST'));
  router.all('/v1/downloads/:id', methodNotAllowed('GET, DELETE'));
  return router;
}

/** A new job holds one of the caller's download slots until it ends; an identical running job is shared, without a slot. */
async function submitWithSlot(deps: DownloadRoutesDeps, req: Request, request: JobRequest): Promise<DownloadJob> {
  const release = acquireDownloadSlot(req, deps.downloadLimiter);
  try {
    const { job, created } = await deps.downloads.submit(request);
    if (created) void job.done.finally(release);
    else release();
    return job;
  } catch (err) {
    release();
    throw err;
  }
}

/** Whose jobs the caller sees: its own, or all of them when the service runs open. */
function viewer(req: Request): string | undefined {
  const owner = callerOwner(req);
  return owner === OPEN_CALLER ? undefined : owner;
}

/** The caller's job `:id`; another caller's is 404 exactly as an unknown id is. */
function findJob(downloads: DownloadManager, req: Request): DownloadJob {
  const id = String(req.params.id);
  const job = downloads.get(id, viewer(req));
  if (!job) throw new AppError('NotFound', `There is no download job ${id}.`);
  return job;
}

function sendJob(res: Response, clock: Clock, job: DownloadJob, status: number): void {
  res.status(status).json(jobBody(job, clock.now()));
}

/** A job as the API shows it: its view, with its error as problem+json fields. */
export function jobBody(job: DownloadJob, now: number): Omit<JobView, 'error'> & { error: ProblemFields | null } {
  const view = job.view(now);
  return { ...view, error: view.error && problemFields(view.error) };
}

/** Waits for the job; a caller who hangs up stops waiting (the job goes on). */
function untilDone(job: DownloadJob, req: Request): Promise<void> {
  return new Promise((resolve) => {
    const onClose = () => resolve();
    req.socket.once('close', onClose);
    void job.done.then(() => {
      req.socket.off('close', onClose);
      resolve();
    });
  });
}
