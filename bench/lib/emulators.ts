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

/** KEY=VALUE pairs separated by commas, from an environment variable of the harness (for example the CRC toggle). */
export function envPairs(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
}
