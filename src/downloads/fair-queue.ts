/**
 * The download queue, fair between callers: the next job to start is the
 * oldest queued job of the caller with the fewest jobs running and, among
 * those, of the caller served longest ago (round robin). One caller's many
 * queued jobs never keep another caller's job waiting behind more than one
 * of them.
 */
export class FairQueue<T> {
  /** Owner → its queued items, oldest first. */
  private readonly queued = new Map<string, T[]>();
  /** Owner → items started and not yet finished. */
  private readonly running = new Map<string, number>();
  /** Owner → when it last had an item started (a count of starts); owners never served come first. */
  private readonly lastServed = new Map<string, number>();
  private starts = 0;
  /** Arrival order of every queued item, the last tie-break between owners. */
  private readonly arrival = new Map<T, number>();
  private arrivals = 0;

  push(owner: string, item: T): void {
    const items = this.queued.get(owner) ?? [];
    items.push(item);
    this.queued.set(owner, items);
    this.arrival.set(item, this.arrivals++);
  }

  get size(): number {
    return this.arrival.size;
  }

  /** Takes the next item to start and counts it as running for its owner until `finished(owner)`. */
  start(): T | undefined {
    let chosen: string | undefined;
    for (const [owner, items] of this.queued) {
      if (chosen === undefined || this.isBefore(owner, items[0], chosen)) chosen = owner;
    }
    if (chosen === undefined) return undefined;
    const item = this.take(chosen, 0);
    this.running.set(chosen, (this.running.get(chosen) ?? 0) + 1);
    this.lastServed.set(chosen, this.starts++);
    return item;
  }

  finished(owner: string): void {
    const now = (this.running.get(owner) ?? 1) - 1;
    if (now === 0) this.running.delete(owner);
    else this.running.set(owner, now);
  }

  /** Removes a queued item; false when it was not queued. */
  remove(owner: string, item: T): boolean {
    const index = this.queued.get(owner)?.indexOf(item) ?? -1;
    if (index === -1) return false;
    this.take(owner, index);
    return true;
  }

  /** Every queued item, oldest first, leaving the queue empty. */
  drain(): T[] {
    const all = [...this.arrival.keys()];
    this.queued.clear();
    this.arrival.clear();
    return all;
  }

  private isBefore(owner: string, head: T, than: string): boolean {
    const mine = this.running.get(owner) ?? 0;
    const theirs = this.running.get(than) ?? 0;
    if (mine !== theirs) return mine < theirs;
    const myTurn = this.lastServed.get(owner) ?? -1;
    const theirTurn = this.lastServed.get(than) ?? -1;
    if (myTurn !== theirTurn) return myTurn < theirTurn;
    return this.arrival.get(head)! < this.arrival.get(this.queued.get(than)![0])!;
  }

  private take(owner: string, index: number): T {
    const items = this.queued.get(owner)!;
    const [item] = items.splice(index, 1);
    if (items.length === 0) this.queued.delete(owner);
    this.arrival.delete(item);
    return item;
  }
}
