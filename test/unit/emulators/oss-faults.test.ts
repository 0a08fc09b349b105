import OSS from 'ali-oss';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { aliOssOptions } from '../../../emulators/oss/client-options';
import { createOssEmulator, type OssEmulator, type RecordedRequest } from '../../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../../emulators/sts-registry';
import { ManualClock } from '../../support/manual-clock';

const BUCKET = 'media-bucket';
const SIZE = 300_000;

describe('OSS emulator: fault injection and request records', () => {
  let emulator: OssEmulator;
  let oss: OSS;

  beforeEach(async () => {
    const clock = new ManualClock(Date.now());
    const sts = new StsRegistry(clock);
    emulator = createOssEmulator({ sts, clock });
    await emulator.listen();
    emulator.createBucket(BUCKET);
    emulator.putGeneratedObject(BUCKET, 'gen.bin', SIZE, 9);
    emulator.allow('reader-role', BUCKET);
    oss = new OSS(aliOssOptions(emulator, BUCKET, sts.issue('reader-role', 3_600_000), 'v4'));
  });

  afterEach(() => emulator.close());

  function nextEnd(): Promise<RecordedRequest> {
    return once(emulator.events, 'request-end').then(([record]) => record as RecordedRequest);
  }

  it('latency: delays the answer by at least the given time', async () => {
    emulator.injectFault({ kind: 'latency', ms: 150 });

    const started = performance.now();
    await oss.head('gen.bin');
    const elapsed = performance.now() - started;

    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(emulator.requests[0]).toMatchObject({ status: 200, faults: ['latency'] });
  });

  it('status: answers the 5xx with OSS error XML, then disarms', async () => {
    emulator.injectFault({ kind: 'status', status: 503, code: 'ServiceUnavailable' });

    await expect(oss.listV2({}, {})).rejects.toMatchObject({ status: 503, code: 'ServiceUnavailable' });
    await expect(oss.listV2({}, {})).resolves.toMatchObject({ keyCount: 1 });
    expect(emulator.requests.map((r) => r.status)).toEqual([503, 200]);
  });

  it('fires only on matching requests, `times` times', async () => {
    emulator.putObject(BUCKET, 'other.txt', 'other');
    emulator.injectFault({ kind: 'status', status: 500, code: 'InternalError', match: { key: 'gen.bin' }, times: 2 });

    await oss.head('other.txt');
    await expect(oss.head('gen.bin')).rejects.toMatchObject({ status: 500, code: 'InternalError' });
    await expect(oss.head('gen.bin')).rejects.toMatchObject({ status: 500 });
    await oss.head('gen.bin');

    expect(emulator.requests.map((r) => [r.key, r.status])).toEqual([
      ['other.txt', 200],
      ['gen.bin', 500],
      ['gen.bin', 500],
      ['gen.bin', 200],
    ]);
  });

  it('reset-before-headers: the connection closes with no status line', async () => {
    emulator.injectFault({ kind: 'reset-before-headers' });
    const ended = nextEnd();

    await expect(oss.getStream('gen.bin')).rejects.toMatchObject({ status: -1 });
    expect(await ended).toMatchObject({ status: 0, completed: false, clientAborted: false, faults: ['reset-before-headers'] });
  });

  it('drop-mid-body: sends the headers and afterBytes, then drops the connection', async () => {
    emulator.injectFault({ kind: 'drop-mid-body', afterBytes: 100_000 });
    const ended = nextEnd();

    const got = await oss.getStream('gen.bin');
    const { bytes, error } = await readToEnd(got.stream);

    expect(got.res.status).toBe(200);
    expect(error).toBeDefined();
    expect(bytes.equals(emulator.expectedBytes(BUCKET, 'gen.bin', 0, 99_999))).toBe(true);
    expect(await ended).toMatchObject({ bytesSent: 100_000, completed: false, clientAborted: false, faults: ['drop-mid-body'] });
  });

  it('body faults wait for a GET with a body: a HEAD does not use them up', async () => {
    emulator.injectFault({ kind: 'drop-mid-body', afterBytes: 10 });

    await oss.head('gen.bin');
    const got = await oss.getStream('gen.bin');
    const { bytes, error } = await readToEnd(got.stream);

    expect([bytes.length, error !== undefined]).toEqual([10, true]);
  });

  it('stall-mid-body with ms: pauses after afterBytes, then completes', async () => {
    emulator.injectFault({ kind: 'stall-mid-body', afterBytes: 1000, ms: 150 });

    const started = performance.now();
    const got = await oss.getStream('gen.bin');
    const { bytes, error } = await readToEnd(got.stream);

    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(error).toBeUndefined();
    expect(bytes.equals(emulator.expectedBytes(BUCKET, 'gen.bin'))).toBe(true);
    expect(emulator.requests[0]).toMatchObject({ completed: true, faults: ['stall-mid-body'] });
  });

  it('stall-mid-body without ms: holds until the client gives up, which is recorded as a client abort', async () => {
    emulator.injectFault({ kind: 'stall-mid-body', afterBytes: 1000 });
    const stalled = once(emulator.events, 'fault');

    const got = await oss.getStream('gen.bin');
    const firstBytes = await readAtLeast(got.stream, 1000);
    await stalled;
    const ended = nextEnd();
    got.stream.destroy();

    expect(firstBytes.length).toBe(1000);
    expect(await ended).toMatchObject({ bytesSent: 1000, completed: false, clientAborted: true });
  });

  it('close() ends a stalled response and resolves', async () => {
    emulator.injectFault({ kind: 'stall-mid-body', afterBytes: 10 });
    const got = await oss.getStream('gen.bin');
    await readAtLeast(got.stream, 10);
    const ended = nextEnd();

    await emulator.close();

    expect(await ended).toMatchObject({ completed: false, clientAborted: false });
  });

  it('bandwidth: caps the rate of one response', async () => {
    emulator.injectFault({ kind: 'bandwidth', bytesPerSecond: 1_000_000 });

    const started = performance.now();
    const got = await oss.getStream('gen.bin');
    const { bytes } = await readToEnd(got.stream);
    const elapsed = performance.now() - started;

    expect(bytes.length).toBe(SIZE);
    expect(elapsed).toBeGreaterThanOrEqual(0.9 * ((SIZE / 1_000_000) * 1000));
    expect(emulator.requests[0].faults).toEqual(['bandwidth']);
  });

  it('corrupt-byte: inverts one body byte and keeps the stored CRC64 and ETag headers', async () => {
    emulator.injectFault({ kind: 'corrupt-byte', atByte: 70_000 });
    const expected = emulator.expectedBytes(BUCKET, 'gen.bin');

    const got = await oss.getStream('gen.bin');
    const { bytes } = await readToEnd(got.stream);
    const again = await oss.getStream('gen.bin').then((next) => readToEnd(next.stream));

    const differing = [...bytes.keys()].filter((i) => bytes[i] !== expected[i]);
    expect(differing).toEqual([70_000]);
    expect(bytes[70_000]).toBe(expected[70_000] ^ 0xff);
    expect((got.res.headers as Record<string, string>)['x-oss-hash-crc64ecma']).toBe(emulator.objectInfo(BUCKET, 'gen.bin')?.crc64.toString());
    expect(emulator.requests[0].faults).toEqual(['corrupt-byte']);
    expect(again.bytes.equals(expected)).toBe(true); // one request only
  });

  it('clearFaults() disarms everything', async () => {
    emulator.injectFault({ kind: 'reset-before-headers', times: Infinity });
    emulator.clearFaults();

    await expect(oss.head('gen.bin')).resolves.toMatchObject({ status: 200 });
  });

  describe('streaming', () => {
    it('respects backpressure from a client that does not read, and stops when it leaves', async () => {
      const size = 1024 ** 3;
      emulator.putGeneratedObject(BUCKET, 'huge.bin', size, 1);
      const blocked = once(emulator.events, 'backpressure');

      const got = await oss.getStream('huge.bin');
      const [record] = (await blocked) as [RecordedRequest];
      // Proving that nothing more happens needs a window of time.
      await sleep(200);
      const sentWhileBlocked = record.bytesSent;
      const ended = nextEnd();
      got.stream.destroy();
      const final = await ended;

      expect(sentWhileBlocked).toBeLessThan(64 * 1024 ** 2);
      expect(final).toMatchObject({ clientAborted: true, completed: false });
      expect(final.bytesSent).toBeLessThan(64 * 1024 ** 2);
    });
  });

  describe('request records', () => {
    it('describe each request and are emptied by resetCounters()', async () => {
      await oss.getStream('gen.bin', { headers: { Range: 'bytes=0-9' } }).then((got) => readToEnd(got.stream));

      expect(emulator.requests).toEqual([
        expect.objectContaining({
          method: 'GET',
          bucket: BUCKET,
          key: 'gen.bin',
          status: 206,
          bytesSent: 10,
          completed: true,
          clientAborted: false,
          signatureVersion: 'v4',
          headers: expect.objectContaining({ range: 'bytes=0-9', host: `${BUCKET}.oss-cn-hangzhou.aliyuncs.com` }),
        }),
      ]);
      emulator.resetCounters();
      expect(emulator.requests).toEqual([]);
    });
  });
});

async function readToEnd(stream: NodeJS.ReadableStream): Promise<{ bytes: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { bytes: Buffer.concat(chunks) };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

function readAtLeast(stream: NodeJS.ReadableStream, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total < count) return;
      stream.off('data', onData);
      stream.pause();
      resolve(Buffer.concat(chunks));
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}
