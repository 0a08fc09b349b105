import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { Crc64MismatchError, Crc64Verifier } from './crc64-verifier';

export type StreamOutcome = 'complete' | 'client_aborted' | 'upstream_failed' | 'crc_mismatch';

export interface StreamResult {
  outcome: StreamOutcome;
  /** Body bytes handed to the response. */
  bytes: number;
  error?: unknown;
}

/**
 * Send an object body to the caller, ending in `pipeline` so that either side
 * failing tears down the other:
 * - the caller goes away: the upstream body is destroyed at once, which closes
 *   the OSS connection instead of reading the rest of the object for nobody;
 * - OSS fails mid-body (reset, stall, idle timeout), or the bytes do not match
 *   `expectedCrc64`: the response is destroyed, so the caller sees a broken
 *   transfer, never a short or corrupt body that looks whole.
 */
export async function streamBody(
  body: Readable,
  res: Response,
  onBytes: (n: number) => void,
  options: { expectedCrc64?: bigint } = {},
): Promise<StreamResult> {
  let bytes = 0;
  let clientWentFirst = false;
  let upstreamFailedFirst = false;
  res.once('close', () => {
    if (!res.writableFinished && !upstreamFailedFirst) clientWentFirst = true;
  });
  body.once('error', () => {
    if (!clientWentFirst) upstreamFailedFirst = true;
  });

  // pipeline puts seven 'close' listeners on the response, beside the request
  // logger's, the metrics', the lifecycle's and ours: expected, not a leak.
  res.setMaxListeners(res.getMaxListeners() + 8);
  // The status line goes out now, not with the first body byte: the CRC verifier holds a chunk
  // back, and a failure before any byte was written would otherwise reach the caller as a bare
  // reset with no status at all, where HTTP callers expect a broken transfer of an answer.
  res.flushHeaders();
  const verifier = options.expectedCrc64 === undefined ? undefined : new Crc64Verifier(options.expectedCrc64);
  const done = verifier ? pipeline(body, verifier, res) : pipeline(body, res);
  (verifier ?? body).on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    onBytes(chunk.length);
  });
  try {
    await done;
    return { outcome: 'complete', bytes };
  } catch (error) {
    res.destroy();
    if (error instanceof Crc64MismatchError) return { outcome: 'crc_mismatch', bytes, error };
    return { outcome: clientWentFirst ? 'client_aborted' : 'upstream_failed', bytes, error };
  }
}
