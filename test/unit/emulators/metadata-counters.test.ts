import { ManualClock } from '../../support/manual-clock';
import { StsRegistry } from '../../../emulators/sts-registry';
import { createMetadataEmulator, type MetadataEmulator, type MetadataRequestRecord } from '../../../emulators/metadata/metadata-emulator';

const TTL_HEADER = 'X-aliyun-ecs-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'X-aliyun-ecs-metadata-token';
const ROLE_LIST = '/latest/meta-data/ram/security-credentials/';

describe('metadata emulator: counters', () => {
  let emulator: MetadataEmulator;

  beforeEach(async () => {
    const clock = new ManualClock();
    emulator = createMetadataEmulator({ sts: new StsRegistry(clock), clock });
    await emulator.listen();
  });

  afterEach(() => emulator.close());

  /** The flow @alicloud/credentials runs with disableIMDSv1 and no role name, plus one credentials_uri read. */
  async function hardenedDiscoveryFlow(): Promise<void> {
    const token = await (await fetch(emulator.url('/latest/api/token'), { method: 'PUT', headers: { [TTL_HEADER]: '21600' } })).text();
    const role = await (await fetch(emulator.url(ROLE_LIST), { headers: { [TOKEN_HEADER]: token } })).text();
    await fetch(emulator.url(`${ROLE_LIST}${role}`), { headers: { [TOKEN_HEADER]: token } });
    await fetch(emulator.url('/v1/credentials'));
  }

  it('counts each kind of call', async () => {
    await hardenedDiscoveryFlow();

    expect(emulator.calls).toEqual({ token: 1, roleList: 1, credentials: 1, uri: 1 });
  });

  it('records each answered request with its method, path, token presence and status', async () => {
    await fetch(emulator.url(ROLE_LIST));
    await hardenedDiscoveryFlow();

    expect(emulator.requests).toEqual([
      { method: 'GET', path: ROLE_LIST, hadToken: false, status: 403 },
      { method: 'PUT', path: '/latest/api/token', hadToken: false, status: 200 },
      { method: 'GET', path: ROLE_LIST, hadToken: true, status: 200 },
      { method: 'GET', path: `${ROLE_LIST}oss-download-role`, hadToken: true, status: 200 },
      { method: 'GET', path: '/v1/credentials', hadToken: false, status: 200 },
    ]);
  });

  it("emits 'request' once per answered request", async () => {
    const seen: MetadataRequestRecord[] = [];
    emulator.events.on('request', (record: MetadataRequestRecord) => seen.push(record));

    await hardenedDiscoveryFlow();

    expect(seen).toEqual(emulator.requests);
    expect(seen).toHaveLength(4);
  });

  it('does not count paths outside the four it counts, but records them', async () => {
    const response = await fetch(emulator.url('/latest/meta-data/instance-id'));

    expect(response.status).toBe(403);
    expect(emulator.calls).toEqual({ token: 0, roleList: 0, credentials: 0, uri: 0 });
    expect(emulator.requests).toHaveLength(1);
  });

  it('zeroes the counters in place on resetCounters', async () => {
    const calls = emulator.calls;
    const requests = emulator.requests;
    await hardenedDiscoveryFlow();

    emulator.resetCounters();

    expect(calls).toEqual({ token: 0, roleList: 0, credentials: 0, uri: 0 });
    expect(requests).toHaveLength(0);
    await fetch(emulator.url('/v1/credentials'));
    expect(calls.uri).toBe(1);
  });
});
