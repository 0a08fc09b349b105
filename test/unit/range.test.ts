import { parseRange } from '../../src/http/range';
import { ifRangeMatches } from '../../src/http/if-range';

describe('parseRange', () => {
  it.each([
    ['bytes=0-99', 'bytes=0-99'],
    ['bytes=100-', 'bytes=100-'],
    ['bytes=-500', 'bytes=-500'],
    [' bytes = 5 - 9 ', 'bytes=5-9'],
    ['bytes=007-8', 'bytes=7-8'],
  ])('forwards the single range %j as %j', (header, forwarded) => {
    expect(parseRange(header)).toEqual({ kind: 'single', header: forwarded });
  });

  it.each(['bytes=0-1,5-6', 'bytes=-1, 3-4'])('reads %j as several ranges', (header) => {
    expect(parseRange(header)).toEqual({ kind: 'multiple' });
  });

  it.each(['items=0-5', 'bytes=abc', 'bytes=9-3', 'bytes=', 'bytes=-', '0-5', 'bytes=1-2-3'])('ignores the unreadable range %j', (header) => {
    expect(parseRange(header)).toEqual({ kind: 'invalid' });
  });

  it('reads no header as no range', () => {
    expect(parseRange(undefined)).toEqual({ kind: 'none' });
  });
});

describe('ifRangeMatches', () => {
  const headers = { etag: '"ABC"', 'last-modified': 'Wed, 21 Oct 2026 07:28:00 GMT' };

  it('matches the same strong ETag only', () => {
    expect(ifRangeMatches('"ABC"', headers)).toBe(true);
    expect(ifRangeMatches('"XYZ"', headers)).toBe(false);
    expect(ifRangeMatches('W/"ABC"', headers)).toBe(false);
  });

  it('matches an exactly equal Last-Modified date only', () => {
    expect(ifRangeMatches('Wed, 21 Oct 2026 07:28:00 GMT', headers)).toBe(true);
    expect(ifRangeMatches('Wed, 21 Oct 2026 07:28:01 GMT', headers)).toBe(false);
    expect(ifRangeMatches('not a date', headers)).toBe(false);
  });
});
