import { isValidBucketName } from '../access-policy';
import { AppError } from '../errors';

/**
 * The bucket and key named by a request path `/v1/objects/{bucket}/{key}`.
 * The key is everything after the bucket, slashes included, percent-decoded
 * exactly once (`a/b%20c.txt` is the key "a/b c.txt"; `%252F` is "%2F").
 * Read from the raw path, not from Express's per-segment params, so that what
 * "decoded once" means is visible here.
 */
export interface ObjectAddress {
  bucket: string;
  key: string;
}

const OBJECT_PATH = /^\/v1\/objects\/([^/]*)(?:\/(.*))?$/s;
/** OSS's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1023;

export function parseBucket(rawPath: string): string {
  const match = OBJECT_PATH.exec(rawPath);
  const bucket = decodeOnce(match?.[1] ?? '', 'bucket name');
  if (!isValidBucketName(bucket)) {
    throw new AppError(
      'InvalidRequest',
      'The bucket name is not valid: 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit.',
    );
  }
  return bucket;
}

export function parseObjectAddress(rawPath: string): ObjectAddress {
  const bucket = parseBucket(rawPath);
  const key = decodeOnce(OBJECT_PATH.exec(rawPath)?.[2] ?? '', 'object key');
  if (key === '') throw new AppError('InvalidRequest', 'The object key is empty.');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new AppError('InvalidRequest', `The object key is longer than ${MAX_KEY_BYTES} bytes in UTF-8.`);
  }
  // OSS refuses keys that start with / or \ and ali-oss would silently strip a leading /.
  if (key.startsWith('/') || key.startsWith('\\')) {
    throw new AppError('InvalidRequest', 'The object key must not start with / or \\.');
  }
  if (key.includes('\0')) throw new AppError('InvalidRequest', 'The object key contains a NUL character.');
  // HTTP clients (ali-oss's urllib among them) resolve . and .. segments in a URL, so OSS would be asked
  // for another key than the one checked against OSS_ALLOW and the caller's scope: refuse them.
  if (key.split('/').some((s) => s === '.' || s === '..')) {
    throw new AppError('InvalidRequest', 'The object key must not contain . or .. segments.');
  }
  return { bucket, key };
}

function decodeOnce(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // Malformed %-escapes, or bytes that are not UTF-8.
    throw new AppError('InvalidRequest', `The ${what} is not valid percent-encoded UTF-8.`);
  }
}
