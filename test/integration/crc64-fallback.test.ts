import { resolve } from 'node:path';
import { startLoopbackEmulators, type LoopbackEmulators } from '../../emulators/loopback-emulators';
import { killAllServices, startService } from '../support/service-process';
import { get } from '../support/stack';

const BUCKET = 'fallback-bucket';
const WITHOUT_KOFFI = resolve(__dirname, '..', 'support', 'without-koffi.cjs');

/**
 * The built service where the fast CRC-64 cannot load (koffi made to throw on require, as on
 * a platform it ships no binary for): it must start, say so, and check streams with the
 * TypeScript CRC-64, catching a corrupted byte as before.
 */
describe('the built service without koffi (CRC-64 fallback)', () => {
  let emu: LoopbackEmulators;

  beforeAll(async () => {
    emu = await startLoopbackEmulators({ role: 'oss-download-role', bucket: BUCKET });
    emu.oss.putGeneratedObject(BUCKET, 'whole.bin', 3 * 1024 * 1024 + 5, 3);
  });

  afterAll(async () => {
    killAllServices();
    await emu.close();
  });

  it('logs and exports crc64_implementation{impl="js"}, serves a whole object checked, and breaks off a corrupted one', async () => {
    const service = await startService({
      ...emu.serviceEnv({ PORT: '0', HOST: '127.0.0.1', OSS_VERIFY_CRC64: 'true' }),
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: `--require ${WITHOUT_KOFFI}`,
    });
    const whole = await get(`${service.baseUrl}/v1/objects/${BUCKET}/whole.bin`);
    emu.oss.injectFault({ kind: 'corrupt-byte', match: { key: 'whole.bin' }, atByte: 2 * 1024 * 1024 });
    const corrupted = await get(`${service.baseUrl}/v1/objects/${BUCKET}/whole.bin`);
    const metrics = await get(`${service.baseUrl}/metrics`);
    await service.stop('SIGTERM');

    expect(service.logLines().filter((line) => line.crc64 !== undefined)).toEqual([
      expect.objectContaining({
        level: 30,
        crc64: 'js',
        reason: expect.stringMatching(/koffi is blocked/),
        msg: 'CRC-64: the TypeScript fallback (liblzma could not be used)',
      }),
    ]);
    expect(metrics.body.toString()).toMatch(/^crc64_implementation\{impl="js"\} 1$/m);
    expect(whole.status).toBe(200);
    expect(whole.complete).toBe(true);
    expect(whole.body.equals(emu.oss.expectedBytes(BUCKET, 'whole.bin'))).toBe(true);
    expect(corrupted.status).toBe(200);
    expect(corrupted.complete).toBe(false);
    expect(metrics.body.toString()).toMatch(/^object_crc64_mismatches_total 1$/m);
  });
});
