/**
 * Saves a record that changes often (a checkpoint's parts, a prefix job's
 * manifest) in the background, coalesced: while one write is in flight, later
 * changes wait for the next one, so a burst of changes costs a bounded number
 * of writes and no change waits for one.
 */
export class BackgroundSave {
  private writing: Promise<void> | undefined;
  private dirty = false;

  /** `onFailure` hears of every write that failed. */
  constructor(
    private readonly save: () => Promise<void>,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** The record changed: save it soon. */
  request(): void {
    this.dirty = true;
    this.writing ??= this.writeWhileDirty()
      .catch(this.onFailure)
      .finally(() => (this.writing = undefined));
  }

  /** Resolves once no write is in flight. */
  async flushed(): Promise<void> {
    await this.writing;
  }

  private async writeWhileDirty(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      await this.save();
    }
  }
}
