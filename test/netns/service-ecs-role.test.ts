import { describeNetns, runInNetns, type NetnsRun } from '../support/netns';
import {
  COLD_START_REQUESTS,
  OUTAGE_REQUESTS,
  PHASES,
  ROLE,
  type ColdStartResult,
  type DiscoveryResult,
  type NoCredentialResult,
  type OutageResult,
  type Phase,
  type ServesResult,
  type ServiceScenarioResult,
} from './scenarios/service-ecs-role';

const SCENARIO = 'test/netns/scenarios/service-ecs-role.ts';
const TOKEN_PATH = '/latest/api/token';
const CREDENTIAL_PATH = `/latest/meta-data/ram/security-credentials/${ROLE}`;

describeNetns('the built service (node dist/src/server.js) on the real ECS RAM role path', () => {
  const runs = new Map<Phase, NetnsRun>();

  // Each phase is its own namespace, emulators and service. They run side by side, except the
  // cold start: its credential fetch must survive a 200-request burst within the library's 1 s
  // metadata timeout, so it runs alone rather than beside four other services on a small CI box.
  beforeAll(async () => {
    const run = (phase: Phase) => runInNetns(SCENARIO, [phase], { timeoutMs: 45_000 }).then((done) => runs.set(phase, done));
    await Promise.all(PHASES.filter((phase) => phase !== 'cold-start').map(run));
    await run('cold-start');
  }, 100_000);

  /** The phase's result; fails with the scenario's own output when it did not finish cleanly. */
  function resultOf<T extends ServiceScenarioResult>(phase: T['phase']): T {
    const run = runs.get(phase);
    const result = run?.result as (T & { error?: string }) | undefined;
    if (!run || run.code !== 0 || run.timedOut || result === undefined || result.error !== undefined) {
      throw new Error(
        `phase ${phase} did not finish cleanly: ${JSON.stringify({ code: run?.code, timedOut: run?.timedOut, error: result?.error })}\n` +
          `stdout:\n${run?.stdout ?? ''}\nstderr:\n${run?.stderr ?? ''}`,
      );
    }
    return result;
  }

  it('runs every phase to a clean exit with a result', () => {
    for (const phase of PHASES) expect(resultOf(phase).phase).toBe(phase);
    expect(PHASES.map((phase) => runs.get(phase)?.stderr)).toEqual(PHASES.map(() => ''));
  });

  describe('started with environment variables only, ALIBABA_CLOUD_ECS_METADATA naming the role', () => {
    it('answers GET with the whole object: its bytes, length, type and ETag', () => {
      const { whole, expected } = resultOf<ServesResult>('serves');
      expect(whole).toMatchObject({
        status: 200,
        bodyMatches: true,
        contentLength: String(expected.size),
        contentType: expected.contentType,
        etag: expected.etag,
      });
    });

    it('answers 206 with Content-Range and the right bytes for Range: bytes=2-5', () => {
      const { range, expected } = resultOf<ServesResult>('serves');
      expect(range).toMatchObject({
        status: 206,
        bodyMatches: true,
        contentLength: '4',
        contentRange: `bytes 2-5/${expected.size}`,
      });
    });

    it('answers HEAD with the object headers and no body', () => {
      const { head, expected } = resultOf<ServesResult>('serves');
      expect(head).toMatchObject({ status: 200, bodyLength: 0, contentLength: String(expected.size), etag: expected.etag });
    });

    it('signs every OSS request with V4 and the AccessKeyId and security token the metadata service issued', () => {
      const { oss, issuedAccessKeyId } = resultOf<ServesResult>('serves');
      expect(issuedAccessKeyId).toMatch(/^STS\./);
      expect(
        oss.map(({ method, status, signatureVersion, principal, signedWithIssued }) => ({
          method,
          status,
          signatureVersion,
          principal,
          signedWithIssued,
        })),
      ).toEqual([
        { method: 'GET', status: 200, signatureVersion: 'v4', principal: ROLE, signedWithIssued: true },
        { method: 'GET', status: 206, signatureVersion: 'v4', principal: ROLE, signedWithIssued: true },
        { method: 'HEAD', status: 200, signatureVersion: 'v4', principal: ROLE, signedWithIssued: true },
      ]);
    });

    it('forwards the range upstream with x-oss-range-behavior: standard', () => {
      const { oss } = resultOf<ServesResult>('serves');
      expect(oss[1]).toMatchObject({ range: 'bytes=2-5', rangeBehavior: 'standard' });
    });

    it('reads the metadata service in hardened mode: a token PUT first, never a read without a token', () => {
      const { metadata } = resultOf<ServesResult>('serves');
      expect(metadata.calls).toMatchObject({ token: 1, roleList: 0, credentials: 1 });
      expect(metadata.requests.map(({ method, path, hadToken, status }) => [method, path, hadToken, status])).toEqual([
        ['PUT', TOKEN_PATH, false, 200],
        ['GET', CREDENTIAL_PATH, true, 200],
      ]);
    });
  });

  describe('without ALIBABA_CLOUD_ECS_METADATA', () => {
    it('discovers the role from the metadata service and serves the object with it', () => {
      const { whole, oss, metadata } = resultOf<DiscoveryResult>('discovery');
      expect(whole).toMatchObject({ status: 200, bodyMatches: true });
      expect(metadata.calls.roleList).toBeGreaterThanOrEqual(1);
      expect(metadata.requests.filter((r) => r.method === 'GET').every((r) => r.hadToken && r.status === 200)).toBe(true);
      expect(oss).toEqual([expect.objectContaining({ signatureVersion: 'v4', principal: ROLE, signedWithIssued: true })]);
    });
  });

  describe('cold start', () => {
    it(`answers ${COLD_START_REQUESTS} concurrent GETs sent while the first credential fetch is in flight`, () => {
      const result = resultOf<ColdStartResult>('cold-start');
      expect(result.burstWrittenBeforeCredentialAnswer).toBe(true);
      // The service's warnings come along so a failure says why (a metadata timeout, say).
      expect({ statuses: result.statuses, warnings: result.run.warnings }).toEqual({
        statuses: { 200: COLD_START_REQUESTS },
        warnings: [],
      });
      expect(result.bodiesMatching).toBe(COLD_START_REQUESTS);
      expect([result.ossRequests, result.ossSignedWithIssued]).toEqual([COLD_START_REQUESTS, COLD_START_REQUESTS]);
    });

    it('asks the metadata service for the credential exactly once for all of them', () => {
      const { metadata } = resultOf<ColdStartResult>('cold-start');
      expect(metadata.calls).toMatchObject({ token: 1, credentials: 1 });
    });
  });

  describe('metadata service outage while a valid credential is cached', () => {
    it(`keeps serving: ${OUTAGE_REQUESTS} more GETs succeed, signed with the cached credential`, () => {
      const result = resultOf<OutageResult>('outage');
      expect(result.before).toMatchObject({ status: 200, bodyMatches: true });
      expect(result.metadataUnreachable).toBe(true);
      expect({ statuses: result.statuses, warnings: result.run.warnings }).toEqual({
        statuses: { 200: OUTAGE_REQUESTS },
        warnings: [],
      });
      expect(result.bodiesMatching).toBe(OUTAGE_REQUESTS);
      expect(result.ossSignedWithIssued).toBe(OUTAGE_REQUESTS);
    });

    it('stays ready on /readyz', () => {
      const { readyz } = resultOf<OutageResult>('outage');
      expect(readyz).toEqual({ status: 200, body: expect.objectContaining({ status: 'ready' }) });
    });
  });

  describe('no credential at all: the metadata service is down from the start', () => {
    it('answers GET with 503 problem+json CredentialsUnavailable without calling OSS', () => {
      const { duringOutage, ossRequestsDuringOutage } = resultOf<NoCredentialResult>('no-credential');
      expect(duringOutage.get).toMatchObject({
        status: 503,
        contentType: 'application/problem+json',
        body: { status: 503, code: 'CredentialsUnavailable' },
      });
      expect(ossRequestsDuringOutage).toBe(0);
    });

    it('answers /readyz with 503', () => {
      const { duringOutage } = resultOf<NoCredentialResult>('no-credential');
      expect(duringOutage.readyz).toMatchObject({ status: 503, body: { code: 'CredentialsUnavailable' } });
    });

    it('turns ready and serves again once the metadata service is back, without a restart', () => {
      const { recovery, metadata } = resultOf<NoCredentialResult>('no-credential');
      expect(recovery.readyzStatus).toBe(200);
      expect(recovery.get).toMatchObject({ status: 200, bodyMatches: true });
      expect(metadata.requests.map(({ method, path, hadToken, status }) => [method, path, hadToken, status])).toEqual([
        ['PUT', TOKEN_PATH, false, 200],
        ['GET', CREDENTIAL_PATH, true, 200],
      ]);
    });
  });

  describe('in every phase', () => {
    it('exits 0 after SIGTERM, logging that it stopped', () => {
      const exits = PHASES.map((phase) => ({ phase, ...resultOf(phase).run.exit, stopped: resultOf(phase).run.loggedStopped }));
      expect(exits).toEqual(PHASES.map((phase) => ({ phase, code: 0, signal: null, stopped: true })));
    });

    it('never writes an issued AccessKeyId, AccessKeySecret or SecurityToken to its output or an answer', () => {
      for (const phase of PHASES) {
        const { run } = resultOf(phase);
        expect({ phase, scanned: run.credentialsScanned > 0 && run.logLineCount > 0, leaks: run.leaks }).toEqual({
          phase,
          scanned: true,
          leaks: [],
        });
      }
    });
  });
});
