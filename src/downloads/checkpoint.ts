import { z } from 'zod';
import type { DirectoryHandle } from './directory-handle';
import type { TargetFiles } from './target-path';

/**
 * The resume record beside the temporary file: which object version the bytes
 * belong to (ETag and size) and which parts were fully written, each with its
 * CRC64. Parts not listed are fetched again; a record for another version of
 * the object is thrown away with the bytes it describes.
 *
 * A resumed run re-reads each listed part and checks its CRC64 before trusting
 * it, so a record that got to disk before its bytes did (power loss) costs a
 * re-fetch, never a corrupt file.
 */
const checkpointSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  key: z.string(),
  /** The version pinned (a versionId download): a resume asks for exactly it again. */
  versionId: z.string().optional(),
  /** Set when a prefix job wrote it (its prefix): the job's rerun continues the file, no job of its own at start. */
  prefix: z.string().optional(),
  /** Relative to DOWNLOAD_ROOT for service jobs; absolute for the command line. */
  path: z.string(),
  overwrite: z.boolean(),
  etag: z.string(),
  size: z.number().int().min(0),
  crc64: z.string().nullable(),
  partSize: z.number().int().min(1),
  thresholdBytes: z.number().int().min(1),
  /** Part index → decimal CRC64 of its bytes. */
  parts: z.record(z.string(), z.string()),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

/** The record in `text`, or undefined when it is not one. */
export function parseCheckpoint(text: string): Checkpoint | undefined {
  try {
    const parsed = checkpointSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A checkpoint is a few hundred bytes per part; anything far larger is not one of ours. */
const MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024;

/**
 * The record at `name` in `dir`, or undefined when there is none or it cannot
 * be read. Opened like every file under the root (directory-handle.ts): a
 * FIFO planted there is refused at once instead of blocking the read.
 */
export async function readCheckpoint(dir: DirectoryHandle, name: string): Promise<Checkpoint | undefined> {
  const text = await dir.readSmallFile(name, MAX_CHECKPOINT_BYTES);
  return text === undefined ? undefined : parseCheckpoint(text);
}

/** Written to the side file `files.checkpointNext` and renamed, so a crash leaves the old record or the new one, never half. */
export async function writeCheckpoint(files: TargetFiles, checkpoint: Checkpoint): Promise<void> {
  await files.dir.replaceFile(files.checkpoint, files.checkpointNext, JSON.stringify(checkpoint));
}
