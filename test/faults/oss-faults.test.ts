import type { Fault } from '../../emulators/oss/oss-emulator';
import { BUCKET, startStack, type Stack } from '../support/stack';
import { recordFigures } from './support/figures';
import { countVerdicts, fetchAndJudge, runPool, seededRandom, type Judged } from './support/verdict';

/**
 * OSS misbehaving under the service: 500/503 bursts, connections reset before
 * the headers, connections dropped or stalled mid-body. Whatever happens, the
 * caller gets the right bytes, a broken transfer, or a 5xx problem: never
 * wrong bytes and never a short body that looks complete.
 */
jest.setTimeout(60_000);

const KEY = 'faults/1m.bin';
const SIZE = 1024 * 1024;

describe('OSS faults', () => {
  let stack: Stack;
  let expected: Buffer;
  const url = () => `${stack.baseUrl}/v1/objects/${BUCKET}/${KEY}`;
  const figures: Record<string, { requests: number; faults: number; verdicts: Record<string, number>; bytesVerified: number }> = {};

  beforeAll(async () => {
    // A short idle timeout, so a stalled body becomes a broken transfer quickly.
    stack = await startStack({ idleTimeoutMs: 300 });
    stack.oss.putGeneratedObject(BUCKET, KEY, SIZE, 42);
    expected = stack.oss.expectedBytes(BUCKET, KEY);
  });
  afterAll(async () => {
    await stack.close();
    recordFigures('oss-faults', { scenarios: figures });
  });
  beforeEach(() => stack.oss.clearFaults());

  async function underFault(name: string, fault: Fault, requests: number): Promise<Judged[]> {
    let injected = 0;
    const onFault = () => (injected += 1);
    stack.oss.events.on('fault', onFault);
    stack.oss.injectFault({ ...fault, match: { key: KEY } });
    const results = await runPool(requests, 4, () => fetchAndJudge(url(), { body: expected }));
    stack.oss.events.off('fault', onFault);
    const verdicts = countVerdicts(results);
    figures[name] = { requests, faults: injected, verdicts, bytesVerified: verdicts.ok * SIZE };
    return results;
  }

  it.each([
    ['a burst of 500 InternalError', { kind: 'status', status: 500, code: 'InternalError' }],
    ['a burst of 503 ServiceUnavailable', { kind: 'status', status: 503, code: 'ServiceUnavailable' }],
    ['connections reset before the headers', { kind: 'reset-before-headers' }],
  ] as const)('answers %s with 502 problems and serves the rest whole', async (name, spec) => {
    const results = await underFault(name, { ...spec, times: 6 }, 12);
    const verdicts = countVerdicts(results);
    expect(verdicts).toEqual({ ok: 6, broken: 0, '5xx': 6, wrong: 0, 'no-answer': 0 });
    expect(new Set(results.filter((r) => r.verdict === '5xx').map((r) => `${r.status} ${r.code}`))).toEqual(new Set(['502 UpstreamUnavailable']));
  });

  it('breaks the transfer when OSS drops the connection mid-body', async () => {
    const verdicts = countVerdicts(await underFault('connections dropped mid-body', { kind: 'drop-mid-body', afterBytes: 300_000, times: 5 }, 10));
    expect(verdicts).toEqual({ ok: 5, broken: 5, '5xx': 0, wrong: 0, 'no-answer': 0 });
  });

  it('breaks the transfer when OSS stalls mid-body for longer than the idle timeout', async () => {
    const verdicts = countVerdicts(
      await underFault('stalls mid-body past the idle timeout', { kind: 'stall-mid-body', afterBytes: 200_000, times: 4 }, 8),
    );
    expect(verdicts).toEqual({ ok: 4, broken: 4, '5xx': 0, wrong: 0, 'no-answer': 0 });
  });

  it('delivers the whole object through a stall shorter than the idle timeout and a slow link', async () => {
    await underFault('short stalls mid-body', { kind: 'stall-mid-body', afterBytes: 500_000, ms: 100, times: 4 }, 4);
    const verdicts = countVerdicts(await underFault('a 4 MiB/s link', { kind: 'bandwidth', bytesPerSecond: 4 * 1024 * 1024, times: 4 }, 4));
    expect(figures['short stalls mid-body'].verdicts.ok).toBe(4);
    expect(verdicts.ok).toBe(4);
  });

  it('never hands out wrong bytes under a seeded mix of every fault, ranges included', async () => {
    const random = seededRandom(6);
    const kinds: Fault[] = [
      { kind: 'status', status: 500, code: 'InternalError' },
      { kind: 'status', status: 503, code: 'ServiceUnavailable' },
      { kind: 'reset-before-headers' },
      { kind: 'drop-mid-body', afterBytes: 1000 },
      { kind: 'stall-mid-body', afterBytes: 70_000 },
      { kind: 'latency', ms: 20 },
    ];
    let injected = 0;
    const onFault = () => (injected += 1);
    stack.oss.events.on('fault', onFault);
    const results = await runPool(60, 6, async () => {
      if (random() < 0.5) stack.oss.injectFault({ ...kinds[Math.floor(random() * kinds.length)], match: { key: KEY } });
      const start = Math.floor(random() * SIZE);
      const end = Math.min(SIZE - 1, start + Math.floor(random() * 200_000));
      return random() < 0.5
        ? fetchAndJudge(url(), { body: expected })
        : fetchAndJudge(url(), { status: 206, body: expected.subarray(start, end + 1) }, { headers: { Range: `bytes=${start}-${end}` } });
    });
    stack.oss.events.off('fault', onFault);
    const verdicts = countVerdicts(results);
    figures['a seeded mix, ranges included'] = {
      requests: 60,
      faults: injected,
      verdicts,
      bytesVerified: results.filter((r) => r.verdict === 'ok').reduce((s, r) => s + r.bytes, 0),
    };
    expect(verdicts.wrong).toBe(0);
    expect(verdicts['no-answer']).toBe(0);
    expect(verdicts.ok).toBeGreaterThan(0);
  });
});
