import { describeNetns, runInNetns, type NetnsRun } from '../support/netns';
import type { EcsRamRoleProbeResult } from './scenarios/ecs-ram-role-probe';

const TOKEN_PATH = '/latest/api/token';
const ROLE_LIST = '/latest/meta-data/ram/security-credentials/';

describeNetns('real @alicloud/credentials ecs_ram_role against the metadata emulator on 100.100.100.200', () => {
  let run: NetnsRun;
  let result: EcsRamRoleProbeResult;

  beforeAll(async () => {
    run = await runInNetns('test/netns/scenarios/ecs-ram-role-probe.ts', ['oss-download-role'], { timeoutMs: 30_000 });
    result = run.result as EcsRamRoleProbeResult;
  }, 40_000);

  it('runs the scenario to a clean exit with a result', () => {
    expect({ code: run.code, timedOut: run.timedOut, stderr: run.stderr }).toEqual({
      code: 0,
      timedOut: false,
      stderr: '',
    });
    expect(result).toHaveProperty('discovered');
  });

  describe('with role discovery (no role name configured)', () => {
    it('gets exactly the credential the emulator issued', () => {
      expect(result.discovered.accessKeyId).toMatch(/^STS\./);
      expect(result.discovered.accessKeyId).toBe(result.discovered.issuedAccessKeyId);
      expect(result.discovered.sameTriple).toBe(true);
    });

    it('asks for a metadata token before each read, and every read carries one', () => {
      expect(result.discovered.calls).toEqual({ token: 2, roleList: 1, credentials: 1, uri: 0 });
      expect(result.discovered.requests.map(({ method, path, hadToken, status }) => [method, path, hadToken, status])).toEqual([
        ['PUT', TOKEN_PATH, false, 200],
        ['GET', ROLE_LIST, true, 200],
        ['PUT', TOKEN_PATH, false, 200],
        ['GET', `${ROLE_LIST}oss-download-role`, true, 200],
      ]);
    });
  });

  describe('with ALIBABA_CLOUD_ECS_METADATA naming the role', () => {
    it('skips discovery: one token, one credential read', () => {
      expect(result.named.calls).toEqual({ token: 1, roleList: 0, credentials: 1, uri: 0 });
    });

    it('gets the same credential, since the emulator has not rotated it', () => {
      expect(result.named.accessKeyId).toBe(result.discovered.accessKeyId);
      expect(result.named.sameTriple).toBe(true);
    });
  });
});
