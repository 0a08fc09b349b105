import { z } from 'zod';
import { BackgroundSave } from './background-save';
import { sideFilesOf } from './download-path';
import { openJobTarget, type TargetFiles } from './target-path';

/**
 * What a prefix job wrote into its folder: for each file (by its path below
 * the folder), the object version it holds. A later run of the same job skips
 * a file whose object has not changed without asking OSS for its bytes,
 * fetches one whose object changed (the service wrote it, so it may replace
 * it), and with `delete` removes files whose object is gone; a file the
 * manifest does not list is never replaced without `overwrite` and never
 * deleted.
 *
 * Kept in the folder as `.oss-download-manifest.json`, written like a
 * checkpoint (side file, then rename) in the background as files finish, at
 * most once a second while the job runs (each write is the whole manifest:
 * one per file would rewrite it a thousand times for a thousand small files)
 * and once more when the job ends. A crash loses at most the last second's
 * entries: those files are then checked by size and CRC-64 (one HEAD each).
 */
export const MANIFEST_NAME = '.oss-download-manifest.json';

const entrySchema = z.object({ etag: z.string(), size: z.number().int().min(0), crc64: z.string().nullable() });
const manifestSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  prefix: z.string(),
  files: z.record(z.string(), entrySchema),
});

export type ManifestEntry = z.infer<typeof entrySchema>;
type Manifest = z.infer<typeof manifestSchema>;

/** One entry per file is a few hundred bytes: a manifest far over this is not one of ours. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** The longest a recorded file waits before the manifest is written. */
const SAVE_INTERVAL_MS = 1000;

export class SyncManifest {
  private readonly save: BackgroundSave;
  private failure: unknown;
  private scheduled: NodeJS.Timeout | undefined;

  private constructor(
    private readonly files: TargetFiles,
    private readonly manifest: Manifest,
  ) {
    this.save = new BackgroundSave(
      () => files.dir.replaceFile(files.name, sideFilesOf(files.name).temp, JSON.stringify(this.manifest)),
      (err) => (this.failure ??= err),
    );
  }

  /**
   * The manifest of `folder` (relative to `root`, '' for the root itself),
   * created as needed. One written for another bucket or prefix is not this
   * job's: it starts empty, so nothing that job wrote is replaced or deleted
   * as if this one had.
   */
  static async open(root: string, folder: string, bucket: string, prefix: string): Promise<SyncManifest> {
    const files = await openJobTarget(root, folder === '' ? MANIFEST_NAME : `${folder}/${MANIFEST_NAME}`);
    const text = await files.dir.readSmallFile(files.name, MAX_MANIFEST_BYTES);
    const parsed = text === undefined ? undefined : manifestSchema.safeParse(safeJson(text));
    const found = parsed?.success && parsed.data.bucket === bucket && parsed.data.prefix === prefix ? parsed.data : undefined;
    return new SyncManifest(files, found ?? { version: 1, bucket, prefix, files: {} });
  }

  entry(path: string): ManifestEntry | undefined {
    return Object.hasOwn(this.manifest.files, path) ? this.manifest.files[path] : undefined;
  }

  paths(): string[] {
    return Object.keys(this.manifest.files);
  }

  record(path: string, entry: ManifestEntry): void {
    this.manifest.files[path] = entry;
    this.saveSoon();
  }

  forget(path: string): void {
    delete this.manifest.files[path];
    this.saveSoon();
  }

  /** Writes what changed, waits for the write and closes the folder; throws the first write that failed. */
  async close(): Promise<void> {
    if (this.scheduled) {
      clearTimeout(this.scheduled);
      this.scheduled = undefined;
      this.save.request();
    }
    await this.save.flushed();
    await this.files.release(false);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the save's failure, rethrown as it was caught
    if (this.failure !== undefined) throw this.failure;
  }

  private saveSoon(): void {
    this.scheduled ??= setTimeout(() => {
      this.scheduled = undefined;
      this.save.request();
    }, SAVE_INTERVAL_MS).unref();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
