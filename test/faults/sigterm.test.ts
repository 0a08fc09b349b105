import { BUCKET } from '../support/stack';
import { recordFigures } from './support/figures';
import { startServiceStack, type ServiceStack } from './support/service-stack';
import { countVerdicts, fetchAndJudge, runPool } from './support/verdict';

/**
 * SIGTERM while streams are in flight, against the real entry point as a
 * child process (what exists in this branch; graceful shutdown is being
 * improved in parallel): every in-flight stream finishes whole, the process
 * exits 0, and a request that arrives during the drain is answered or
 * refused at connect (ECONNREFUSED tells a client nobody took it), never
 * accepted and then dropped. Requests racing the signal itself, on fresh or
 * idle keep-alive connections, can still be reset: see bench/ANALYSIS.md.
 */
jest.setTimeout(60_000);

const SLOW_KEY = 'drain/4m.bin';
const SIZE = 4 * 1024 * 1024;
const IN_FLIGHT = 8;

describe('SIGTERM under load', () => {
  let stack: ServiceStack;
  beforeEach(async () => {
    stack = await startServiceStack({ LOG_LEVEL: 'info' });
    stack.oss.putGeneratedObject(BUCKET, SLOW_KEY, SIZE, 11);
    stack.oss.putObject(BUCKET, 'drain/small.txt', 'small');
  });
  afterEach(() => stack.close());

  /** Starts IN_FLIGHT streams of about 2 s each and resolves once OSS is sending every body. */
  async function startStreams() {
    const expected = stack.oss.expectedBytes(BUCKET, SLOW_KEY);
    stack.oss.injectFault({ kind: 'bandwidth', bytesPerSecond: 2 * 1024 * 1024, times: IN_FLIGHT, match: { key: SLOW_KEY } });
    const sending = new Promise<void>((resolve) => {
      let started = 0;
      stack.oss.events.on('fault', (_record, kind) => {
        if (kind === 'bandwidth' && ++started === IN_FLIGHT) resolve();
      });
    });
    const streams = Promise.all(
      Array.from({ length: IN_FLIGHT }, () => fetchAndJudge(`${stack.service.baseUrl}/v1/objects/${BUCKET}/${SLOW_KEY}`, { body: expected })),
    );
    await sending;
    // In an object: an async function returning the promise itself would wait for every stream to end.
    return { streams };
  }

  /** Resolves once the service has logged that it is draining (bounded). */
  async function drainStarted(): Promise<void> {
    for (let i = 0; i < 500; i += 1) {
      if (stack.service.logLines().some((l) => l.msg === 'shutting down')) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the service never logged that it was draining');
  }

  it('finishes every in-flight stream, answers new requests 503 NotReady (or refuses them once closed), and exits 0', async () => {
    const { streams } = await startStreams();
    const exit = stack.service.stop('SIGTERM', 30_000);
    await drainStarted();
    const during = await runPool(20, 4, () =>
      fetchAndJudge(`${stack.service.baseUrl}/v1/objects/${BUCKET}/drain/small.txt`, { body: Buffer.from('small') }),
    );
    const finished = await streams;
    const exited = await exit;

    recordFigures('sigterm', {
      inFlight: countVerdicts(finished),
      newRequestsDuringDrain: {
        answered503: during.filter((j) => j.status === 503).length,
        refusedAtConnect: during.filter((j) => j.errorCode === 'ECONNREFUSED').length,
        other: during.filter((j) => j.status !== 503 && j.errorCode !== 'ECONNREFUSED').length,
      },
      bytesVerified: finished.filter((s) => s.verdict === 'ok').length * SIZE,
      exit: exited,
    });
    expect(countVerdicts(finished)).toEqual({ ok: IN_FLIGHT, broken: 0, '5xx': 0, wrong: 0, 'no-answer': 0 });
    // After the grace period (0 here) a new request is answered 503 NotReady with Connection: close
    // (src/lifecycle.ts); once the drain is over the port is closed. Never a reset or silence.
    expect(during.filter((j) => !(j.status === 503 && j.code === 'NotReady') && j.errorCode !== 'ECONNREFUSED')).toEqual([]);
    expect(exited).toEqual({ code: 0, signal: null });
  });
});
