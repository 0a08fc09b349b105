import { isAppError } from '../errors';
import { DownloadSuspended } from '../downloads/download-object';

/** What `oss-download` exits with, so scripts can tell failures apart. */
export const EXIT = {
  ok: 0,
  /** OSS unreachable or failing, or anything unexpected. */
  failed: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** No such object or bucket, or access refused (by OSS or by OSS_ALLOW). */
  notFoundOrDenied: 3,
  /** The bytes did not verify: CRC64 mismatch, or the object changed during the download. */
  verification: 4,
  /** Not enough free disk space. */
  noSpace: 5,
  /** The target exists and --overwrite was not given. */
  exists: 6,
  /** sync or get -r: some files failed, others were downloaded or already in place. */
  partial: 7,
  /** Interrupted by a signal; the checkpoint is kept and the same command resumes. */
  interrupted: 130,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof DownloadSuspended) return EXIT.interrupted;
  if (!isAppError(err)) return EXIT.failed;
  switch (err.code) {
    case 'InvalidRequest':
      return EXIT.usage;
    case 'NoSuchKey':
    case 'NoSuchBucket':
    case 'AccessDenied':
    case 'NotAllowed':
      return EXIT.notFoundOrDenied;
    case 'ChecksumMismatch':
    case 'ObjectChanged':
      return EXIT.verification;
    case 'InsufficientStorage':
      return EXIT.noSpace;
    case 'Conflict':
      return EXIT.exists;
    default:
      return EXIT.failed;
  }
}
