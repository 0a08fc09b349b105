import { ConfigError, loadConfig } from '../../src/config';

const minimal = { OSS_REGION: 'cn-beijing', OSS_ALLOW: 'my-bucket' };

describe('loadConfig: operations settings', () => {
  it('verifies CRC64, refuses new requests at once and drains for 25 s by default', () => {
    const config = loadConfig(minimal);
    expect(config.oss.verifyCrc64).toBe(true);
    expect(config.shutdown).toEqual({ graceMs: 0, drainMs: 25_000 });
  });

  it('reads OSS_VERIFY_CRC64 and the shutdown times', () => {
    const config = loadConfig({ ...minimal, OSS_VERIFY_CRC64: 'false', SHUTDOWN_GRACE_SECONDS: '0', SHUTDOWN_DRAIN_SECONDS: '120' });
    expect(config.oss.verifyCrc64).toBe(false);
    expect(config.shutdown).toEqual({ graceMs: 0, drainMs: 120_000 });
  });

  it('refuses a grace period longer than the drain time, and a CRC64 switch it cannot read', () => {
    expect(() => loadConfig({ ...minimal, SHUTDOWN_GRACE_SECONDS: '30', SHUTDOWN_DRAIN_SECONDS: '10' })).toThrow(
      /SHUTDOWN_GRACE_SECONDS: must not be larger than SHUTDOWN_DRAIN_SECONDS/,
    );
    expect(() => loadConfig({ ...minimal, OSS_VERIFY_CRC64: 'maybe' })).toThrow(ConfigError);
  });
});
