import fs from 'node:fs/promises';
import { z } from 'zod';

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

/** The record at `file`, or undefined when there is none or it cannot be read. */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  try {
    const parsed = checkpointSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a side file and renamed, so a crash leaves the old record or the new one, never half. */
export async function writeCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  const next = `${file}.next`;
  await fs.writeFile(next, JSON.stringify(checkpoint));
  await fs.rename(next, file);
}

export async function removeQuietly(...files: string[]): Promise<void> {
  await Promise.all(files.map((f) => fs.rm(f, { force: true })));
}
