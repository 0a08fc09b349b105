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
  const verifier = options.expectedCrc64 === undefined ? undefined : new Crc64Verifier(options.expectedCrc64);
  // The headers go out with the first body bytes (one write for a small object). If the
  // body fails before any (the CRC verifier holds a chunk back), they go out now, just
  // before pipeline destroys the response: the caller gets a status line and a broken
  // transfer, not a bare reset. These listeners are added before pipeline's, so run first.
  const sendStatusLine = () => {
    if (!res.headersSent && !res.destroyed) res.flushHeaders();
  };
  res.once('close', () => {
    if (!res.writableFinished && !upstreamFailedFirst) clientWentFirst = true;
  });
  body.once('error', () => {
    if (!clientWentFirst) upstreamFailedFirst = true;
    sendStatusLine();
  });
  verifier?.once('error', sendStatusLine);

  // pipeline puts seven 'close' listeners on the response, beside the request
  // logger's, the metrics', the lifecycle's and ours: expected, not a leak.
  res.setMaxListeners(res.getMaxListeners() + 8);
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
