import type { FileHandle } from 'node:fs/promises';
import { Crc64 } from '../crc64-choice';
import { BackgroundSave } from './background-save';
import { writeCheckpoint, type Checkpoint } from './checkpoint';
import type { Part } from './part-plan';
import type { TargetFiles } from './target-path';

/**
 * Records finished parts, in the background (background-save.ts): the parts
 * of a parallel download finish together, and a wait for a write and a rename
 * per part left every connection idle. The data is not flushed first (an
 * fsync per part would hold the download to the disk's synchronous rate);
 * instead a resumed run re-reads every recorded part and checks its CRC64
 * (verifyRecordedParts).
 */
export class CheckpointSaver {
  private readonly save: BackgroundSave;

  /** `onFailure` hears of the first write that failed (the job stops: a download it cannot record is not resumable). */
  constructor(
    files: TargetFiles,
    private readonly record: Checkpoint,
    onFailure: (err: unknown) => void,
  ) {
    this.save = new BackgroundSave(() => writeCheckpoint(files, record), onFailure);
  }

  partDone(index: number, crc: bigint): void {
    this.record.parts[index] = crc.toString();
    this.save.request();
  }

  /** Resolves once no write is in flight. */
  flushed(): Promise<void> {
    return this.save.flushed();
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
    for (let position = part.start; position <= part.end;) {
      const length = Math.min(buffer.length, part.end - position + 1);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead === 0) break;
      crc.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    if (crc.toString() !== recorded) delete record.parts[part.index];
  }
}
