import { BUCKET, get, startStack, type Stack } from '../support/stack';
import { recordFigures } from './support/figures';

/** The host's clock and OSS's disagree by more than OSS allows (RequestTimeTooSkewed). */
jest.setTimeout(30_000);

describe('clock skew between the service and OSS', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack({ maxSkewMs: 15 * 60 * 1000 });
    stack.oss.putObject(BUCKET, 'k.txt', 'payload');
  });
  afterEach(() => stack.close());

  it('answers 502 UpstreamUnavailable saying the clock is off, and serves again once the clocks agree', async () => {
    const url = `${stack.baseUrl}/v1/objects/${BUCKET}/k.txt`;
    const now = stack.clock.now();
    stack.clock.set(now + 20 * 60 * 1000); // OSS is 20 minutes ahead of this host

    const skewed = await get(url);
    const head = await get(url, {}, 'HEAD');
    stack.clock.set(now);
    const agreed = await get(url);

    expect(skewed.status).toBe(502);
    const problem = JSON.parse(skewed.body.toString('utf8')) as { code: string; detail: string };
    expect(problem.code).toBe('UpstreamUnavailable');
    expect(problem.detail).toMatch(/RequestTimeTooSkewed.*clock/);
    expect(head.status).toBe(502);
    expect(stack.oss.requests.map((r) => r.code ?? r.status)).toEqual(['RequestTimeTooSkewed', 'RequestTimeTooSkewed', 200]);
    expect(agreed.status).toBe(200);
    expect(agreed.body.toString()).toBe('payload');
    recordFigures('clock-skew', { requests: 3, skewMinutes: 20, answers: [skewed.status, head.status, agreed.status], detail: problem.detail });
  });
});
