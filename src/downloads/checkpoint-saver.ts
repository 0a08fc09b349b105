import type { FileHandle } from 'node:fs/promises';
import { Crc64 } from '../crc64-choice';
import { writeCheckpoint, type Checkpoint } from './checkpoint';
import type { Part } from './part-plan';

/**
 * Records finished parts. Writes happen in the background and are coalesced:
 * while one is in flight, later parts wait for the next write, so a many-part
 * download writes the record a bounded number of times and no part waits for
 * one (the parts of a parallel download finish together, and a wait there
 * left every connection idle for a write and a rename per round). The data is
 * not flushed first (an fsync per part would hold the download to the disk's
 * synchronous rate); instead a resumed run re-reads every recorded part and
 * checks its CRC64 (verifyRecordedParts).
 */
export class CheckpointSaver {
  private writing: Promise<void> | undefined;
  private dirty = false;

  /** `onFailure` hears of the first write that failed (the job stops: a download it cannot record is not resumable). */
  constructor(
    private readonly path: string,
    private readonly record: Checkpoint,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  partDone(index: number, crc: bigint): void {
    this.record.parts[index] = crc.toString();
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
      await writeCheckpoint(this.path, this.record);
    }
  }
}

/**
 * A checkpoint may name parts whose bytes never reached the disk (power loss
 * before writeback): re-read each recorded part and keep only those whose
 * CRC64 still matches. Reading local bytes is far cheaper than fetching them.
 */
export async function verifyRecordedParts(file: FileHandle, plan: Part[], record: Checkpoint): Promise<void> {
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (const part of plan) {
    const recorded = record.parts[part.index];
    if (recorded === undefined) continue;
    const crc = new Crc64();
    for (let position = part.start; position <= part.end; ) {
      const length = Math.min(buffer.length, part.end - position + 1);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead === 0) break;
      crc.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    if (crc.toString() !== recorded) delete record.parts[part.index];
  }
}
