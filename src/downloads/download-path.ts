import { z } from 'zod';

/**
 * The one rule for a download path: what `POST /v1/downloads` accepts, what a
 * checkpoint must name to be resumed, and what the filesystem code walks.
 *
 * Relative to DOWNLOAD_ROOT, `/`-separated, no empty, `.` or `..` segment (so
 * two different strings never name one file, and none leaves the root by
 * itself), no backslash, NUL or control character, well-formed UTF-16 (a lone
 * surrogate becomes U+FFFD in UTF-8: two different strings, one file), and
 * short enough for the hidden temporary and checkpoint files beside it.
 */

/** Linux NAME_MAX, in bytes. */
export const NAME_MAX = 255;
/** Bytes of the whole path; well under PATH_MAX with the root in front of it. */
const MAX_PATH_BYTES = 1024;
/** Folders deep: every folder of a running job is held open by handle. */
const MAX_SEGMENTS = 32;

export const TEMP_SUFFIX = '.oss-download';
export const CHECKPOINT_SUFFIX = '.oss-download.json';
/** The checkpoint's own side file, written and renamed over it. */
export const CHECKPOINT_NEXT_SUFFIX = `${CHECKPOINT_SUFFIX}.next`;
/** The longest file name whose longest side file (`.NAME.oss-download.json.next`) still fits in NAME_MAX. */
export const MAX_FILE_NAME_BYTES = NAME_MAX - 1 - CHECKPOINT_NEXT_SUFFIX.length;

/** What is wrong with `path`, or undefined when it is a valid download path. */
export function downloadPathProblem(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (!path.isWellFormed()) return 'must be well-formed Unicode (no lone surrogate)';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `must be at most ${MAX_PATH_BYTES} bytes in UTF-8`;
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'must not contain control characters or backslashes';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'must be relative to the download root';
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return 'must not contain empty, . or .. segments';
  if (segments.length > MAX_SEGMENTS) return `must be at most ${MAX_SEGMENTS} segments deep`;
  if (segments.some((s) => Buffer.byteLength(s) > NAME_MAX)) return `must not have a segment longer than ${NAME_MAX} bytes`;
  const name = segments[segments.length - 1];
  if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) {
    return `must end in a file name of at most ${MAX_FILE_NAME_BYTES} bytes (the service keeps hidden files with longer names beside it)`;
  }
  if (name.endsWith(TEMP_SUFFIX) || name.endsWith(CHECKPOINT_SUFFIX) || name.endsWith(CHECKPOINT_NEXT_SUFFIX)) {
    return "must not end like one of the service's own hidden files";
  }
  return undefined;
}

/** The path's segments: folders, then the file name. Call only on a path that passed the rule. */
export function segmentsOf(path: string): string[] {
  return path.split('/');
}

/** The schema form of the rule, for request bodies. */
export const downloadPath = z.string().superRefine((path, ctx) => {
  const problem = downloadPathProblem(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** The hidden side files of the file `name` in the same folder. */
export function sideFilesOf(name: string): { temp: string; checkpoint: string; checkpointNext: string } {
  return { temp: `.${name}${TEMP_SUFFIX}`, checkpoint: `.${name}${CHECKPOINT_SUFFIX}`, checkpointNext: `.${name}${CHECKPOINT_NEXT_SUFFIX}` };
}
