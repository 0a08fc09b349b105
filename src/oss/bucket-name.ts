/**
 * OSS's bucket naming rule: 3 to 63 characters, lower-case letters, digits and
 * hyphens, starting and ending with a letter or digit. Every place that takes a
 * bucket name from outside (a route, OSS_ALLOW, a tokens file, a checkpoint)
 * checks it here, beside the key rule (object-key.ts).
 */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name);
}
