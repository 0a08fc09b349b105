import http from 'node:http';
import { systemClock } from '../../src/clock';
import { crc64 } from '../../src/crc64';
import { createMetadataEmulator, type MetadataEmulator } from '../../emulators/metadata/metadata-emulator';
import { createOssEmulator, type OssEmulator } from '../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../emulators/sts-registry';
import { killAllServices, loopbackServiceEnv, startService, type ServiceProcess } from '../support/service-process';
import { get } from '../support/stack';

const ROLE = 'oss-download-role';
const BUCKET = 'shutdown-bucket';
const MiB = 1024 * 1024;
/** 4 MiB at 1 MiB/s: still streaming when the 3 s grace period ends. */
const LONG_SIZE = 4 * MiB;
const LONG_RATE = MiB;

/**
 * SIGTERM and SIGINT sent to the built service (`node dist/src/server.js`), a real child
 * process configured by environment variables, in front of both emulators on loopback.
 */
describe('graceful shutdown of the built service', () => {
  let metadata: MetadataEmulator;
  let oss: OssEmulator;
  let expectedCrc: bigint;

  beforeAll(async () => {
    const sts = new StsRegistry(systemClock);
    metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true });
    await metadata.listen();
    oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
    await oss.listen();
    oss.createBucket(BUCKET);
    oss.allow(ROLE, BUCKET);
    expectedCrc = oss.putGeneratedObject(BUCKET, 'long.bin', LONG_SIZE, 11).crc64;
    oss.putObject(BUCKET, 'small.txt', 'small\n');
  });

  afterEach(() => {
    killAllServices();
    oss.clearFaults();
  });
  afterAll(async () => {
    await oss.close();
    await metadata.close();
  });

  function start(env: Record<string, string>): Promise<ServiceProcess> {
    return startService(
      loopbackServiceEnv(oss.endpoint, BUCKET, {
        CREDENTIALS_SOURCE: 'credentials_uri',
        ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
        ...env,
      }),
    );
  }

  const logged = (msg: string) => (line: Record<string, unknown>) => line.msg === msg;

  it('SIGTERM: /readyz 503 at once, new requests served in the grace period, then 503 with Connection: close; the stream finishes whole; exit 0', async () => {
    const service = await start({ SHUTDOWN_GRACE_SECONDS: '3', SHUTDOWN_DRAIN_SECONDS: '20' });
    expect((await get(`${service.baseUrl}/readyz`)).status).toBe(200);
    oss.injectFault({ kind: 'bandwidth', bytesPerSecond: LONG_RATE, match: { key: 'long.bin' } });
    const long = streamingGet(`${service.baseUrl}/v1/objects/${BUCKET}/long.bin`);
    await long.firstBytes;

    const exited = service.stop('SIGTERM', 20_000);
    await service.waitForLog(logged('draining: /readyz answers 503'));
    const readyDuringGrace = await get(`${service.baseUrl}/readyz`);
    const servedDuringGrace = await get(`${service.baseUrl}/v1/objects/${BUCKET}/small.txt`);
    await service.waitForLog(logged('refusing new requests'));
    const refused = await get(`${service.baseUrl}/v1/objects/${BUCKET}/small.txt`);
    const whole = await long.done;
    const exit = await exited;

    expect(readyDuringGrace.status).toBe(503);
    expect(JSON.parse(readyDuringGrace.body.toString())).toMatchObject({ code: 'NotReady' });
    expect(servedDuringGrace).toMatchObject({ status: 200, complete: true });
    expect(servedDuringGrace.body.toString()).toBe('small\n');
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'NotReady' });
    expect({ status: whole.status, complete: whole.complete, length: whole.body.length }).toEqual({
      status: 200,
      complete: true,
      length: LONG_SIZE,
    });
    expect(crc64(whole.body)).toBe(expectedCrc);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(service.logLines().find(logged('drained'))).toMatchObject({ drained: true, inFlight: 0 });
    expect(service.logLines().some(logged('stopped'))).toBe(true);
  }, 30_000);

  it('SIGINT when the drain time runs out: the stuck stream is cut (a broken transfer), exit 0', async () => {
    const service = await start({ SHUTDOWN_GRACE_SECONDS: '0', SHUTDOWN_DRAIN_SECONDS: '1' });
    oss.injectFault({ kind: 'stall-mid-body', afterBytes: 100_000, match: { key: 'long.bin' } });
    const stuck = streamingGet(`${service.baseUrl}/v1/objects/${BUCKET}/long.bin`);
    await stuck.firstBytes;

    const exit = await service.stop('SIGINT', 10_000);
    const cut = await stuck.done;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(cut.complete).toBe(false);
    expect(service.logLines().find(logged('drain time over: cutting what is left'))).toMatchObject({ drained: false, inFlight: 1 });
  }, 20_000);

  it('a second signal exits at once, without waiting for the drain', async () => {
    const service = await start({ SHUTDOWN_GRACE_SECONDS: '30', SHUTDOWN_DRAIN_SECONDS: '60' });
    const first = service.stop('SIGTERM', 60_000);
    await service.waitForLog(logged('draining: /readyz answers 503'));

    const exit = await service.stop('SIGTERM', 5_000);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(await first).toEqual(exit);
    expect(service.logLines().some(logged('second signal: exiting now'))).toBe(true);
  }, 20_000);
});

/** A GET whose first bytes and end are separate events; `complete` false when the connection broke mid-body. */
function streamingGet(url: string) {
  let markFirst: () => void = () => undefined;
  const firstBytes = new Promise<void>((resolve) => (markFirst = resolve));
  const done = new Promise<{ status: number; body: Buffer; complete: boolean }>((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        markFirst();
      });
      const finish = (complete: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete });
      res.on('end', () => finish(true));
      res.on('aborted', () => finish(false));
      res.on('error', () => finish(false));
    });
    req.on('error', reject);
  });
  return { firstBytes, done };
}
