import { startLoopbackEmulators, type LoopbackEmulators } from '../../emulators/loopback-emulators';

/**
 * Both emulators on loopback, in the harness process, on the real clock.
 * The bucket is public-read so that the baseline proxy and the direct read
 * need no signature; the service signs anyway and the emulator checks every
 * signature it is sent.
 */
export const ROLE = 'oss-download-role';
export const BUCKET = 'bench-bucket';

export type BenchEmulators = LoopbackEmulators;

export function startEmulators(options: { credentialTtlMs?: number; rotateBeforeMs?: number } = {}): Promise<BenchEmulators> {
  return startLoopbackEmulators({ role: ROLE, bucket: BUCKET, acl: 'public-read', ...options });
}
