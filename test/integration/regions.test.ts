import { parsePrometheusText } from '../support/prometheus-text';
import { get, ROLE, startStack, type Stack } from '../support/stack';

const MAPPED = 'mapped-bucket';
const UNMAPPED = 'unmapped-bucket';

/** Buckets in a second region (its own emulator on its own port), mapped by OSS_BUCKET_REGIONS or not. */
describe.each(['access-denied', 'permanent-redirect'] as const)('buckets in another region, refused by %s', (wrongRegionAnswer) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      allow: '*',
      otherRegion: { region: 'cn-shanghai', bucketRegions: `${MAPPED}=cn-shanghai`, wrongRegionAnswer },
    });
    for (const bucket of [MAPPED, UNMAPPED]) {
      stack.otherRegion!.createBucket(bucket);
      stack.otherRegion!.allow(ROLE, bucket);
      stack.otherRegion!.putObject(bucket, 'report.csv', 'a,b\n1,2\n');
    }
  });
  afterAll(() => stack.close());

  it("serves a mapped bucket from its region's endpoint, V4-signed for that region", async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/${MAPPED}/report.csv`);
    const listing = await get(`${stack.baseUrl}/v1/objects/${MAPPED}?prefix=report`);

    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('a,b\n1,2\n');
    expect(JSON.parse(listing.body.toString()).objects).toHaveLength(1);
    const [upstream] = stack.otherRegion!.requests;
    expect(upstream.headers.authorization).toContain('/cn-shanghai/oss/aliyun_v4_request');
    expect(stack.oss.requests.filter((r) => r.bucket === MAPPED)).toEqual([]);
  });

  it('answers 502 UpstreamUnavailable naming OSS_BUCKET_REGIONS for an unmapped bucket, and counts it', async () => {
    const object = await get(`${stack.baseUrl}/v1/objects/${UNMAPPED}/report.csv`);
    const head = await get(`${stack.baseUrl}/v1/objects/${UNMAPPED}/report.csv`, {}, 'HEAD');
    const listing = await get(`${stack.baseUrl}/v1/objects/${UNMAPPED}`);
    const versions = await get(`${stack.baseUrl}/v1/objects/${UNMAPPED}?versions=true`);

    const problem = JSON.parse(object.body.toString()) as Record<string, unknown>;
    expect(object.status).toBe(502);
    expect(problem).toMatchObject({ code: 'UpstreamUnavailable' });
    expect(problem.detail).toContain('OSS_BUCKET_REGIONS');
    expect(problem.detail).toContain(`${UNMAPPED}=cn-shanghai`);
    expect(head.status).toBe(502);
    expect(listing.status).toBe(502);
    expect(JSON.parse(listing.body.toString()).detail).toContain('OSS_BUCKET_REGIONS');
    expect(versions.status).toBe(502);
    const metrics = parsePrometheusText((await get(`${stack.baseUrl}/metrics`)).body.toString());
    expect(metrics.value('oss_wrong_region_total', { bucket: UNMAPPED })).toBe(4);
    expect(metrics.value('oss_wrong_region_total', { bucket: MAPPED })).toBeUndefined();
  });
});
