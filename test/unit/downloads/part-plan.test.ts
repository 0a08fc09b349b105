import { MAX_PARTS, partLength, planParts } from '../../../src/downloads/part-plan';

describe('planParts', () => {
  it('makes one part of an object up to the threshold', () => {
    expect(planParts(100, 10, 100)).toEqual([{ index: 0, start: 0, end: 99 }]);
  });

  it('cuts a larger object into part-size pieces, the last one short', () => {
    const parts = planParts(25, 10, 5);
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 9],
      [10, 19],
      [20, 24],
    ]);
    expect(parts.reduce((n, p) => n + partLength(p), 0)).toBe(25);
  });

  it('plans nothing for an empty object', () => {
    expect(planParts(0, 10, 5)).toEqual([]);
  });

  it(`never plans more than ${MAX_PARTS} parts, growing the part size instead`, () => {
    const parts = planParts(2 ** 40, 1024, 1);
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect(parts.at(-1)!.end).toBe(2 ** 40 - 1);
  });
});
