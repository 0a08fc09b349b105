import { jobBody } from '../../../routes/downloads';
import { DownloadJob } from '../../../src/downloads/download-job';
import { AppError } from '../../../src/errors';

const REQUEST = { owner: 'reader', bucket: 'bkt', key: 'a/b.bin', path: 'b.bin', overwrite: false };

describe('DownloadJob.view', () => {
  it('reports throughput over this run only, not the bytes resumed from a checkpoint', () => {
    const job = new DownloadJob('id-1', REQUEST, 0);
    job.state = 'running';
    job.startedAt = 1000;
    job.bytesTotal = 10_000;
    job.resumedBytes = 4000;
    job.bytesDone = 6000;
    expect(job.view(3000)).toMatchObject({ bytesDone: 6000, bytesTotal: 10_000, throughput: 1000, finishedAt: null });
  });

  it('has no throughput before it starts', () => {
    expect(new DownloadJob('id-2', REQUEST, 0).view(5000)).toMatchObject({ state: 'queued', throughput: null, startedAt: null });
  });

  it('is shown by the API with its error as problem+json fields, without a request id', async () => {
    const job = new DownloadJob('id-3', REQUEST, 0);
    job.finish('failed', 10, new AppError('InsufficientStorage', 'needs 10 more bytes'));
    await job.done;
    expect(jobBody(job, 10).error).toEqual({
      type: 'urn:oss-download-service:problem:InsufficientStorage',
      title: 'Not enough free disk space for the download',
      status: 507,
      detail: 'needs 10 more bytes',
      code: 'InsufficientStorage',
    });
  });
});
