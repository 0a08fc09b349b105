import type { FileHandle } from 'node:fs/promises';

/**
 * Starts writeback while the download goes on. The temporary file must be
 * fsynced before the rename; left alone, the kernel keeps gigabytes dirty
 * until then and the final fsync stalls for seconds at the disk's rate.
 * One fdatasync at a time runs in the background after each finished part
 * (requests while one runs fold into the next), never holding up a fetch.
 */
export class BackgroundFlush {
  private running: Promise<void> | undefined;
  private requested = false;

  constructor(private readonly file: FileHandle) {}

  request(): void {
    this.requested = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves when no flush is running; an error here is left to the final fsync to report. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (this.requested) {
      this.requested = false;
      await this.file.datasync();
    }
  }
}
