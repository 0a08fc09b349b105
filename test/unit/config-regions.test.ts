import { loadConfig } from '../../src/config';
import { problemsOf } from '../support/config-problems';

const minimal = { OSS_REGION: 'cn-beijing', OSS_ALLOW: '*' };

describe('loadConfig: OSS_BUCKET_REGIONS and OSS_ENDPOINT_TEMPLATE', () => {
  it("gives each mapped bucket its region and that region's internal endpoint by default", () => {
    const config = loadConfig({ ...minimal, OSS_BUCKET_REGIONS: 'bucket-a=cn-shanghai, bucket-b=ap-southeast-1' });

    expect(config.oss.bucketRegions).toEqual({
      'bucket-a': { region: 'cn-shanghai', endpoint: 'https://oss-cn-shanghai-internal.aliyuncs.com' },
      'bucket-b': { region: 'ap-southeast-1', endpoint: 'https://oss-ap-southeast-1-internal.aliyuncs.com' },
    });
  });

  it('builds endpoints from OSS_ENDPOINT_TEMPLATE, OSS_REGION included, while OSS_ENDPOINT stays the endpoint of OSS_REGION', () => {
    const templated = loadConfig({
      ...minimal,
      OSS_ENDPOINT_TEMPLATE: 'https://oss-{region}.aliyuncs.com',
      OSS_BUCKET_REGIONS: 'bucket-a=cn-shanghai',
    });
    const pinned = loadConfig({
      ...minimal,
      OSS_ENDPOINT: 'http://127.0.0.1:9000',
      OSS_ENDPOINT_TEMPLATE: 'https://oss-{region}.aliyuncs.com',
      OSS_BUCKET_REGIONS: 'bucket-a=cn-shanghai,bucket-c=cn-beijing',
    });

    expect(templated.oss.endpoint).toBe('https://oss-cn-beijing.aliyuncs.com');
    expect(templated.oss.bucketRegions['bucket-a'].endpoint).toBe('https://oss-cn-shanghai.aliyuncs.com');
    expect(pinned.oss.endpoint).toBe('http://127.0.0.1:9000');
    expect(pinned.oss.bucketRegions['bucket-c'].endpoint).toBe('http://127.0.0.1:9000');
  });

  it('names every bad entry in the one start-up message', () => {
    const problems = problemsOf({
      ...minimal,
      OSS_BUCKET_REGIONS: 'bucket-a=cn-shanghai,Bad_Bucket=cn-shanghai,bucket-b,bucket-a=cn-hangzhou,bucket-d=Shanghai',
      OSS_ENDPOINT_TEMPLATE: 'ftp://oss-{region}',
    });

    expect(problems).toEqual([
      'OSS_BUCKET_REGIONS: "Bad_Bucket=cn-shanghai" is not bucket=region (for example my-bucket=cn-shanghai)',
      'OSS_BUCKET_REGIONS: "bucket-b" is not bucket=region (for example my-bucket=cn-shanghai)',
      'OSS_BUCKET_REGIONS: bucket bucket-a is given two regions',
      'OSS_BUCKET_REGIONS: "bucket-d=Shanghai" is not bucket=region (for example my-bucket=cn-shanghai)',
      'OSS_ENDPOINT_TEMPLATE: must be an http:// or https:// URL once {region} is replaced (for example https://oss-{region}.aliyuncs.com)',
    ]);
  });
});
