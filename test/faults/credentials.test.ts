import { BUCKET, get, startStack, type Stack } from '../support/stack';
import { recordFigures } from './support/figures';
import { countVerdicts, fetchAndJudge, runPool, type Judged } from './support/verdict';

/**
 * The credential path under failure: the metadata service down for longer
 * than the cached credential lives, and credentials rotating (the old one
 * revoked) every few hundred milliseconds under continuous load.
 */
jest.setTimeout(60_000);

const HOUR = 60 * 60 * 1000;
const MINUTE = 60 * 1000;

describe('metadata service down longer than the credential lives', () => {
  let stack: Stack;

  // The manual clocks start 5 h 50 min in the past, so the first credential
  // (6 h life) expires 10 min from now on the real clock too: inside the
  // library's own 15-minute refresh window, it asks the metadata service on
  // every call instead of trusting a cache that the real clock calls fresh.
  beforeEach(async () => {
    stack = await startStack({ retrySeconds: 1, clockStart: Date.now() - 6 * HOUR + 10 * MINUTE });
    stack.oss.putObject(BUCKET, 'k.txt', 'payload');
  });
  afterEach(() => stack.close());

  const both = (to: number) => {
    stack.clock.set(to);
    stack.serviceClock.set(to);
  };
  const fetchObject = () => fetchAndJudge(`${stack.baseUrl}/v1/objects/${BUCKET}/k.txt`, { body: Buffer.from('payload') });

  it('answers 503 only while no valid credential exists, and recovers without a restart', async () => {
    expect((await fetchObject()).verdict).toBe('ok');
    const first = stack.metadata.current()!;
    stack.metadata.setOutage('refuse');

    both(first.expiresAt! - 10 * MINUTE); // down, but the cached credential has 10 minutes left
    const whileValid = await runPool(20, 4, fetchObject);

    both(first.expiresAt! - 4 * MINUTE); // inside the 5-minute expiry margin: no valid credential
    const withinMargin = await runPool(10, 4, fetchObject);
    const notReady = await get(`${stack.baseUrl}/readyz`);

    both(first.expiresAt! + 30 * MINUTE); // down for longer than the credential lived
    const afterExpiry = await runPool(10, 4, fetchObject);
    const ossRequestsWhileDown = stack.oss.requests.length;

    stack.metadata.setOutage('none');
    const recoveryPolls = await pollUntilReady(stack, first.expiresAt! + 30 * MINUTE);
    const recovered = await runPool(20, 4, fetchObject);
    const ready = await get(`${stack.baseUrl}/readyz`);

    expect(countVerdicts(whileValid)).toMatchObject({ ok: 20, '5xx': 0 });
    expect(statuses([...withinMargin, ...afterExpiry])).toEqual(['503 CredentialsUnavailable']);
    expect(notReady.status).toBe(503);
    expect(ossRequestsWhileDown).toBe(1 + 20); // the failures were decided without asking OSS
    expect(countVerdicts(recovered)).toMatchObject({ ok: 20, wrong: 0 });
    expect(ready.status).toBe(200);
    expect(stack.oss.requests.at(-1)!.accessKeyId).not.toBe(first.accessKeyId);

    recordFigures('metadata-outage', {
      requests: 1 + whileValid.length + withinMargin.length + afterExpiry.length + recovered.length,
      whileCachedCredentialValid: countVerdicts(whileValid),
      withoutValidCredential: countVerdicts([...withinMargin, ...afterExpiry]),
      afterMetadataReturned: countVerdicts(recovered),
      // Real seconds the library's own back-off kept handing back the expired session after the
      // metadata service returned (see bench/RESULTS.md, bugs found).
      recoveryPollsOfHalfASecond: recoveryPolls,
    });
  });
});

describe('credentials rotating under continuous load', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack();
    stack.oss.putGeneratedObject(BUCKET, 'rot/64k.bin', 64 * 1024, 3);
  });
  afterEach(() => stack.close());

  it('fails no request while the credential rotates and the old one is revoked, again and again', async () => {
    const expected = stack.oss.expectedBytes(BUCKET, 'rot/64k.bin');
    const url = `${stack.baseUrl}/v1/objects/${BUCKET}/rot/64k.bin`;
    const ROTATIONS = 8;
    const PER_ROTATION = 40;
    const TOTAL = (ROTATIONS + 1) * PER_ROTATION;
    const results: Judged[] = [];
    let rotations = 0;
    // Eight workers request continuously; one rotation (new credential, old revoked at OSS)
    // every PER_ROTATION answers, so the load is counted, not timed.
    await runPool(TOTAL, 8, async () => {
      const judged = await fetchAndJudge(url, { body: expected });
      results.push(judged);
      if (results.length % PER_ROTATION === 0 && rotations < ROTATIONS) {
        const old = stack.metadata.current()!;
        stack.metadata.rotate();
        stack.sts.revoke(old.accessKeyId);
        rotations += 1;
      }
      return judged;
    });

    const verdicts = countVerdicts(results);
    const refused = stack.oss.requests.filter((r) => r.code === 'InvalidAccessKeyId').length;
    const keys = new Set(stack.oss.requests.filter((r) => r.status === 200).map((r) => r.accessKeyId));
    recordFigures('rotation-under-load', {
      requests: results.length,
      rotations,
      verdicts,
      ossRefusalsRetried: refused,
      metadataCredentialFetches: stack.metadata.calls.uri,
      bytesVerified: verdicts.ok * expected.length,
    });
    expect(verdicts).toEqual({ ok: TOTAL, broken: 0, '5xx': 0, wrong: 0, 'no-answer': 0 });
    expect(rotations).toBe(ROTATIONS);
    expect(keys.size).toBe(ROTATIONS + 1);
  });
});

/**
 * After the metadata service returns, the wrapper asks again once per retry interval (its
 * clock, moved here), but @alicloud/credentials backs off after failed refreshes on the real
 * clock (1 to 10 s after the first ones) and hands back its expired session meanwhile, so the
 * recovery needs real time: poll /readyz, bounded.
 */
async function pollUntilReady(stack: Stack, from: number): Promise<number> {
  for (let poll = 1; poll <= 60; poll += 1) {
    stack.clock.set(from + poll * 1000);
    stack.serviceClock.set(from + poll * 1000);
    if ((await get(`${stack.baseUrl}/readyz`)).status === 200) return poll;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the service did not recover within 30 s of the metadata service returning');
}

function statuses(results: Judged[]): string[] {
  return [...new Set(results.map((r) => `${r.status} ${r.code ?? r.verdict}`))];
}
