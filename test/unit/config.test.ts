import { loadConfig } from '../../src/config';
import { problemsOf } from '../support/config-problems';

const minimal = { OSS_REGION: 'cn-beijing', OSS_ALLOW: 'my-bucket' };

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      oss: { region: 'cn-beijing', endpoint: 'https://oss-cn-beijing-internal.aliyuncs.com', signatureVersion: 4 },
      allow: [{ bucket: 'my-bucket', prefix: '' }],
      credentials: { source: 'ecs_ram_role', imdsV1Allowed: false },
      logLevel: 'info',
    });
    expect(config.downloadRoot).toMatch(/downloads$/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig(minimal);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.oss)).toBe(true);
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      OSS_SIGNATURE_VERSION: '2',
      CREDENTIALS_SOURCE: 'credentials_uri',
      LOG_LEVEL: 'loud',
    });
    const named = problems.map((p) => p.split(':')[0]);
    expect(named).toEqual(
      expect.arrayContaining(['PORT', 'OSS_REGION', 'OSS_ALLOW', 'OSS_SIGNATURE_VERSION', 'LOG_LEVEL', 'ALIBABA_CLOUD_CREDENTIALS_URI']),
    );
  });

  it('refuses to start without OSS_ALLOW', () => {
    expect(problemsOf({ OSS_REGION: 'cn-beijing' })).toEqual([expect.stringMatching(/^OSS_ALLOW: is required/)]);
  });

  it('rejects a bad bucket name in OSS_ALLOW', () => {
    expect(problemsOf({ ...minimal, OSS_ALLOW: 'Bad_Bucket/x' })).toEqual([expect.stringMatching(/^OSS_ALLOW:/)]);
  });

  it('parses bucket/prefix entries and *', () => {
    expect(loadConfig({ ...minimal, OSS_ALLOW: 'bk1, bk2/reports/' }).allow).toEqual([
      { bucket: 'bk1', prefix: '' },
      { bucket: 'bk2', prefix: 'reports/' },
    ]);
    expect(loadConfig({ ...minimal, OSS_ALLOW: '*' }).allow).toBe('*');
  });

  it('requires the AccessKey pair for access_key', () => {
    const problems = problemsOf({ ...minimal, CREDENTIALS_SOURCE: 'access_key' });
    expect(problems).toHaveLength(2);
  });

  it('switches to signature V1 and takes an endpoint', () => {
    const config = loadConfig({ ...minimal, OSS_SIGNATURE_VERSION: '1', OSS_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(config.oss).toMatchObject({ signatureVersion: 1, endpoint: 'http://127.0.0.1:9000' });
  });

  it('rejects an endpoint that is not an http(s) URL', () => {
    expect(problemsOf({ ...minimal, OSS_ENDPOINT: 'ftp://x' })[0]).toMatch(/^OSS_ENDPOINT/);
  });
});
