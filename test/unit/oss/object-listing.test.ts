import { parseObjectListing } from '../../../src/oss/object-listing';

describe('parseObjectListing (ListObjectsV2)', () => {
  it('keeps keys as OSS wrote them: numbers, entities, character references, spaces at either end', () => {
    const page = parseObjectListing(
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n  <Prefix></Prefix>\n' +
        '  <Contents>\n    <Key>1e5</Key>\n    <LastModified>2026-12-01T00:00:00.000Z</LastModified>\n    <ETag>"A"</ETag>\n    <Size>12</Size>\n    <StorageClass>Standard</StorageClass>\n  </Contents>\n' +
        '  <Contents><Key> a &amp;amp; &lt;b&gt; &#x1F600; </Key><Size>0</Size></Contents>\n' +
        '  <CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>\n  <IsTruncated>false</IsTruncated>\n</ListBucketResult>',
    );

    expect(page.objects.map((o) => o.key)).toEqual(['1e5', ' a &amp; <b> 😀 ']);
    expect(page.objects[0]).toEqual({ key: '1e5', size: 12, etag: '"A"', lastModified: '2026-12-01T00:00:00.000Z', storageClass: 'Standard' });
    expect(page.prefixes).toEqual(['dir/']);
    expect(page.nextCursor).toBeNull();
  });

  it('gives the continuation token as the cursor only while the listing is truncated', () => {
    const truncated = parseObjectListing(
      '<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>',
    );
    const empty = parseObjectListing('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>');

    expect(truncated).toEqual({ objects: [], prefixes: [], nextCursor: 'tok+/=' });
    expect(empty).toEqual({ objects: [], prefixes: [], nextCursor: null });
  });
});
