import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Fault } from '../../emulators/oss/oss-emulator';
import { filesUnder, postDownload } from '../support/downloads';
import { BUCKET, startStack, type Stack } from '../support/stack';
import { recordFigures } from './support/figures';
import { seededRandom } from './support/verdict';

/**
 * Downloads to disk while OSS misbehaves: 500/503 bursts, resets before the
 * headers, connections dropped or stalled mid-part. Every job must retry its
 * parts and leave a file byte-identical to the object, or fail and leave no
 * target; never a wrong file.
 */
jest.setTimeout(60_000);

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 4 * MiB + 777;
/** 17 parts of 256 KiB, four at a time, so every fault lands inside a part. */
const PARTS = { thresholdBytes: 1 * MiB, partSizeBytes: 256 * KiB, parallelism: 4, concurrency: 2 };

const FAULTS: Fault[] = [
  { kind: 'status', status: 500, code: 'InternalError' },
  { kind: 'status', status: 503, code: 'ServiceUnavailable' },
  { kind: 'reset-before-headers' },
  { kind: 'drop-mid-body', afterBytes: 100_000 },
  { kind: 'stall-mid-body', afterBytes: 50_000 },
];

describe('downloads to disk under OSS faults', () => {
  let stack: Stack;
  let root: string;
  let expected: Buffer;

  beforeAll(async () => {
    // A short idle timeout, so a stalled part becomes a retry quickly; 8 attempts per part.
    stack = await startStack({ idleTimeoutMs: 300, downloads: { config: PARTS, retry: { attempts: 8 } } });
    root = stack.downloadRoot!;
    stack.oss.putGeneratedObject(BUCKET, 'faulty.bin', SIZE, 21);
    expected = stack.oss.expectedBytes(BUCKET, 'faulty.bin');
  });
  afterAll(() => stack.close());

  it('finishes every job byte-identical through a seeded mix of faults, retrying only the parts that failed', async () => {
    const random = seededRandom(11);
    const jobs = 6;
    const figures = { jobs, succeeded: 0, faultsInjected: 0, partGets: 0, bytesVerified: 0 };
    const onFault = () => (figures.faultsInjected += 1);
    stack.oss.events.on('fault', onFault);
    for (let job = 0; job < jobs; job += 1) {
      stack.oss.clearFaults();
      stack.oss.resetCounters();
      // Three faults per job, each firing once on the next request for the object: the job's
      // HEAD (a drop or stall there has no body to cut and passes it on) or a part.
      for (let i = 0; i < 3; i += 1) {
        stack.oss.injectFault({ ...FAULTS[Math.floor(random() * FAULTS.length)], times: 1, match: { key: 'faulty.bin' } });
      }
      const target = `faults/job-${job}.bin`;
      const res = await postDownload(stack, { bucket: BUCKET, key: 'faulty.bin', path: target });
      expect(res.status).toBe(201);
      expect(res.body.crc64).toBe(stack.oss.objectInfo(BUCKET, 'faulty.bin')!.crc64.toString());
      expect(readFileSync(path.join(root, target)).equals(expected)).toBe(true);
      const gets = stack.oss.requests.filter((r) => r.method === 'GET' && r.key === 'faulty.bin').length;
      // 17 parts, and at most one more request per fault: finished parts are never fetched again.
      expect(gets).toBeGreaterThanOrEqual(17);
      expect(gets).toBeLessThanOrEqual(17 + 3);
      figures.partGets += gets;
      figures.succeeded += 1;
      figures.bytesVerified += SIZE;
    }
    stack.oss.events.off('fault', onFault);
    expect(figures.faultsInjected).toBeGreaterThanOrEqual(jobs * 3);
    expect(filesUnder(path.join(root, 'faults'))).toEqual(Array.from({ length: jobs }, (_, i) => `job-${i}.bin`).sort());
    recordFigures('downloads', figures);
  });
});
