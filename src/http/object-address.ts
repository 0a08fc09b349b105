import { isValidBucketName } from '../oss/bucket-name';
import { AppError } from '../errors';
import { objectKeyProblem } from '../oss/object-key';

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
  const problem = objectKeyProblem(key);
  if (problem) throw new AppError('InvalidRequest', `The object key ${problem}.`);
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
