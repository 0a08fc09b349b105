import { loadCliConfig, loadConfig } from '../../../src/config';

const BASE = {
  OSS_REGION: 'cn-hangzhou',
  OSS_ALLOW: 'bkt',
  CREDENTIALS_SOURCE: 'access_key',
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
};

describe('download configuration', () => {
  it('has defaults for every download variable', () => {
    expect(loadConfig(BASE).downloads).toEqual({
      concurrency: 2,
      thresholdBytes: 64 * 1024 * 1024,
      partSizeBytes: 16 * 1024 * 1024,
      parallelism: 8,
      filesParallelism: 8,
      resumeOnStart: false,
    });
  });

  it('reads them from the environment', () => {
    const config = loadConfig({
      ...BASE,
      DOWNLOAD_CONCURRENCY: '4',
      DOWNLOAD_PART_SIZE_MB: '8',
      DOWNLOAD_THRESHOLD_MB: '32',
      DOWNLOAD_PARALLELISM: '16',
      DOWNLOAD_FILES_PARALLELISM: '3',
      DOWNLOAD_RESUME_ON_START: 'true',
    });
    expect(config.downloads).toEqual({
      concurrency: 4,
      thresholdBytes: 32 * 1024 * 1024,
      partSizeBytes: 8 * 1024 * 1024,
      parallelism: 16,
      filesParallelism: 3,
      resumeOnStart: true,
    });
  });

  it('names every bad download variable in one error', () => {
    expect(() => loadConfig({ ...BASE, DOWNLOAD_CONCURRENCY: '0', DOWNLOAD_PARALLELISM: 'many' })).toThrow(
      /DOWNLOAD_CONCURRENCY[\s\S]*DOWNLOAD_PARALLELISM/,
    );
  });

  it('lets the command line run without OSS_ALLOW', () => {
    const { OSS_ALLOW: _allow, ...withoutAllow } = BASE;
    expect(loadCliConfig(withoutAllow).allow).toBe('*');
  });
});
