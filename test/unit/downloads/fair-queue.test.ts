import { FairQueue } from '../../../src/downloads/fair-queue';

/** Starts `n` items in turn, finishing each before the next (one slot), and returns them in start order. */
function runOneAtATime(queue: FairQueue<string>, n: number): string[] {
  const order: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const item = queue.start()!;
    order.push(item);
    queue.finished(item.split('-')[0]);
  }
  return order;
}

describe('FairQueue', () => {
  it('serves one owner in arrival order', () => {
    const queue = new FairQueue<string>();
    for (const item of ['a-1', 'a-2', 'a-3']) queue.push('a', item);
    expect(runOneAtATime(queue, 3)).toEqual(['a-1', 'a-2', 'a-3']);
    expect(queue.start()).toBeUndefined();
  });

  it('takes owners in turn, so a late owner waits behind at most one job of a busy one', () => {
    const queue = new FairQueue<string>();
    for (let i = 1; i <= 4; i += 1) queue.push('a', `a-${i}`);
    expect(runOneAtATime(queue, 1)).toEqual(['a-1']);
    queue.push('b', 'b-1');
    queue.push('c', 'c-1');
    queue.push('b', 'b-2');
    expect(runOneAtATime(queue, 6)).toEqual(['b-1', 'c-1', 'a-2', 'b-2', 'a-3', 'a-4']);
  });

  it('prefers the owner with fewer items running', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a-1');
    queue.push('a', 'a-2');
    queue.push('b', 'b-1');
    queue.push('b', 'b-2');
    expect([queue.start(), queue.start()]).toEqual(['a-1', 'b-1']);
    queue.finished('b'); // a still runs one, b none
    expect(queue.start()).toBe('b-2');
  });

  it('removes a queued item and drains the rest in arrival order', () => {
    const queue = new FairQueue<string>();
    for (const [owner, item] of [
      ['a', 'a-1'],
      ['b', 'b-1'],
      ['a', 'a-2'],
    ])
      queue.push(owner, item);
    expect(queue.remove('a', 'a-1')).toBe(true);
    expect(queue.remove('a', 'a-1')).toBe(false);
    expect(queue.size).toBe(2);
    expect(queue.drain()).toEqual(['b-1', 'a-2']);
    expect(queue.size).toBe(0);
  });
});
