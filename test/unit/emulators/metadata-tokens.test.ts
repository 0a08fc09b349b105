import { ManualClock } from '../../support/manual-clock';
import { StsRegistry } from '../../../emulators/sts-registry';
import { createMetadataEmulator, type MetadataEmulator } from '../../../emulators/metadata/metadata-emulator';

const TTL_HEADER = 'X-aliyun-ecs-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'X-aliyun-ecs-metadata-token';
const ROLE_LIST = '/latest/meta-data/ram/security-credentials/';

describe('metadata emulator: hardened-mode tokens', () => {
  let clock: ManualClock;
  let emulator: MetadataEmulator;

  beforeEach(async () => {
    clock = new ManualClock();
    emulator = createMetadataEmulator({ sts: new StsRegistry(clock), clock });
    await emulator.listen();
  });

  afterEach(() => emulator.close());

  function putToken(headers: Record<string, string>): Promise<Response> {
    return fetch(emulator.url('/latest/api/token'), { method: 'PUT', headers });
  }

  async function tokenFor(ttlSeconds: number): Promise<string> {
    const response = await putToken({ [TTL_HEADER]: String(ttlSeconds) });
    expect(response.status).toBe(200);
    return response.text();
  }

  function readRoleList(headers: Record<string, string> = {}): Promise<Response> {
    return fetch(emulator.url(ROLE_LIST), { headers });
  }

  describe('PUT /latest/api/token', () => {
    it.each(['1', '21600', '300'])('answers 200 with a text token for a TTL of %s seconds', async (ttl) => {
      const response = await putToken({ [TTL_HEADER]: ttl });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect((await response.text()).length).toBeGreaterThan(20);
    });

    it.each([
      ['no TTL header', {}],
      ['a TTL of 0', { [TTL_HEADER]: '0' }],
      ['a TTL of 21601', { [TTL_HEADER]: '21601' }],
      ['a negative TTL', { [TTL_HEADER]: '-5' }],
      ['a fractional TTL', { [TTL_HEADER]: '1.5' }],
      ['a TTL that is not a number', { [TTL_HEADER]: 'six-hours' }],
    ])('answers 400 for %s', async (_case, headers) => {
      const response = await putToken(headers);

      expect(response.status).toBe(400);
      expect(await response.text()).toBe('400 - Missing or Invalid Parameters');
    });

    it('refuses a request that carries X-Forwarded-For with 403, even with a valid TTL', async () => {
      const response = await putToken({ [TTL_HEADER]: '60', 'X-Forwarded-For': '203.0.113.9' });

      expect(response.status).toBe(403);
    });

    it('answers 405 to a GET, which an SSRF can send but a token request never is', async () => {
      const response = await fetch(emulator.url('/latest/api/token'), { headers: { [TTL_HEADER]: '60' } });

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('PUT');
    });
  });

  describe('reads in hardened-only mode (the default)', () => {
    it('refuses a read without a token with 403', async () => {
      expect((await readRoleList()).status).toBe(403);
    });

    it('serves a read that carries a valid token', async () => {
      const token = await tokenFor(60);

      const response = await readRoleList({ [TOKEN_HEADER]: token });

      expect(response.status).toBe(200);
    });

    it('refuses a token it never issued with 401', async () => {
      expect((await readRoleList({ [TOKEN_HEADER]: 'aaa' })).status).toBe(401);
    });

    it('refuses a token with 401 once its TTL has passed on the clock', async () => {
      const token = await tokenFor(60);
      clock.advance(59_999);
      expect((await readRoleList({ [TOKEN_HEADER]: token })).status).toBe(200);

      clock.advance(1);

      expect((await readRoleList({ [TOKEN_HEADER]: token })).status).toBe(401);
    });
  });

  describe('reads in normal mode', () => {
    beforeEach(() => emulator.setHardenedOnly(false));

    it('serves a read without a token', async () => {
      expect((await readRoleList()).status).toBe(200);
    });

    it('still refuses a bad token with 401', async () => {
      expect((await readRoleList({ [TOKEN_HEADER]: 'aaa' })).status).toBe(401);
    });

    it('refuses token-less reads again once hardened-only mode is switched back on', async () => {
      emulator.setHardenedOnly(true);

      expect((await readRoleList()).status).toBe(403);
    });
  });
});
