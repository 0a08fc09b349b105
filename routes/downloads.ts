import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { allows, isValidBucketName, type AllowList } from '../src/access-policy';
import { acquireDownloadSlot, requireScope } from '../src/auth/caller-access';
import type { ConcurrencyLimiter } from '../src/auth/concurrency-limiter';
import type { Clock } from '../src/clock';
import type { DownloadJob } from '../src/downloads/download-job';
import type { DownloadManager } from '../src/downloads/download-manager';
import { AppError } from '../src/errors';
import { bodyOf, jsonBody } from '../src/http/json-body';
import { MAX_KEY_BYTES } from '../src/http/object-address';
import { relativePath } from '../src/http/relative-path';
import { validate } from '../src/http/validate';

/**
 * POST /v1/downloads: download an object to a file under DOWNLOAD_ROOT.
 * GET /v1/downloads, GET /v1/downloads/{id}: the jobs.
 * DELETE /v1/downloads/{id}: cancel one; its partial file is removed.
 */
export interface DownloadRoutesDeps {
  downloads: DownloadManager;
  allow: AllowList;
  clock: Clock;
  /** Per-caller cap on downloads queued or running (MAX_DOWNLOADS_PER_TOKEN): a slot is held until the job ends. */
  downloadLimiter: ConcurrencyLimiter;
}

const downloadBody = z.strictObject({
  bucket: z.string().refine(isValidBucketName, 'must be a valid bucket name (3 to 63 lower-case letters, digits and hyphens)'),
  key: z
    .string()
    .min(1)
    .refine((k) => Buffer.byteLength(k) <= MAX_KEY_BYTES, `must be at most ${MAX_KEY_BYTES} bytes in UTF-8`)
    .refine((k) => !k.startsWith('/') && !k.startsWith('\\') && !k.includes('\0'), 'must not start with / or \\ or contain NUL'),
  path: relativePath,
  overwrite: z.boolean().default(false),
});

const postQuery = z.object({ wait: z.enum(['1', 'true', '0', 'false']).optional() });

/** A job body is a few hundred bytes; refuse anything much larger before parsing it. */
const MAX_BODY_BYTES = 16 * 1024;

export function downloadRoutes(deps: DownloadRoutesDeps): Router {
  const router = Router();

  router.post('/v1/downloads', ...jsonBody(MAX_BODY_BYTES), async (req, res) => {
    requireScope(req, 'downloads');
    const body = bodyOf(req, downloadBody);
    const wait = validate(postQuery, req.query, 'query').wait;
    requireScope(req, { bucket: body.bucket, key: body.key });
    if (!allows(deps.allow, body.bucket, body.key)) {
      throw new AppError('NotAllowed', `This service is not configured to read ${body.bucket}/${body.key} (see OSS_ALLOW).`);
    }
    const job = await submitWithSlot(deps, req, body);
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
    res.json({ jobs: deps.downloads.list().map((j) => j.view(deps.clock.now())) });
  });

  router.get('/v1/downloads/:id', (req, res) => {
    requireScope(req, 'downloads');
    sendJob(res, deps.clock, findJob(deps.downloads, req.params.id), 200);
  });

  router.delete('/v1/downloads/:id', async (req, res) => {
    requireScope(req, 'downloads');
    const job = await deps.downloads.cancel(findJob(deps.downloads, req.params.id).id);
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
async function submitWithSlot(deps: DownloadRoutesDeps, req: Request, body: z.infer<typeof downloadBody>): Promise<DownloadJob> {
  const release = acquireDownloadSlot(req, deps.downloadLimiter);
  try {
    const { job, created } = await deps.downloads.submit(body);
    if (created) void job.done.finally(release);
    else release();
    return job;
  } catch (err) {
    release();
    throw err;
  }
}

function findJob(downloads: DownloadManager, id: string): DownloadJob {
  const job = downloads.get(id);
  if (!job) throw new AppError('NotFound', `There is no download job ${id}.`);
  return job;
}

function sendJob(res: Response, clock: Clock, job: DownloadJob, status: number): void {
  res.status(status).json(job.view(clock.now()));
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
