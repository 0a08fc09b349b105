import { parseBucket, parseObjectAddress } from '../../src/http/object-address';

describe('parseObjectAddress', () => {
  it.each([
    ['/v1/objects/bkt/a/b%20c.txt', 'a/b c.txt'],
    ['/v1/objects/bkt/deep/a/b/c/d/e.bin', 'deep/a/b/c/d/e.bin'],
    ['/v1/objects/bkt/a+b.txt', 'a+b.txt'],
    ['/v1/objects/bkt/100%25.txt', '100%.txt'],
    ['/v1/objects/bkt/once%252F', 'once%2F'],
    ['/v1/objects/bkt/%E6%97%A5%E6%9C%AC.txt', '日本.txt'],
    ['/v1/objects/bkt/dir/', 'dir/'],
    ['/v1/objects/bkt/a//b', 'a//b'],
  ])('reads %s as the key %j', (path, key) => {
    expect(parseObjectAddress(path)).toEqual({ bucket: 'bkt', key });
  });

  it.each([
    ['/v1/objects/bkt/%zz', /percent-encoded/],
    ['/v1/objects/bkt/%C3%28', /percent-encoded/],
    ['/v1/objects/bkt/a%00b', /NUL/],
    ['/v1/objects/bkt/%2Fabs', /must not start/],
    [`/v1/objects/bkt/${'k'.repeat(1024)}`, /1023 bytes/],
    [`/v1/objects/bkt/${'%E6%97%A5'.repeat(342)}`, /1023 bytes/],
  ])('refuses %s', (path, message) => {
    expect(() => parseObjectAddress(path)).toThrow(message);
  });

  it('accepts a key of exactly 1023 bytes', () => {
    expect(parseObjectAddress(`/v1/objects/bkt/${'k'.repeat(1023)}`).key).toHaveLength(1023);
  });
});

describe('parseBucket', () => {
  it.each(['ab', 'A-bucket', '-bkt', 'bkt-', 'b_kt', 'x'.repeat(64), 'b%2Fc'])('refuses the bucket name %j', (name) => {
    expect(() => parseBucket(`/v1/objects/${name}`)).toThrow(/bucket name/);
  });
});
