import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';

export type StreamOutcome = 'complete' | 'client_aborted' | 'upstream_failed';

/**
 * Send an object body to the caller, ending in `pipeline` so that either side
 * failing tears down the other:
 * - the caller goes away: the upstream body is destroyed at once, which closes
 *   the OSS connection instead of reading the rest of the object for nobody;
 * - OSS fails mid-body (reset, stall, idle timeout): the response is destroyed,
 *   so the caller sees a broken transfer, never a short body that looks whole.
 */
export async function streamBody(
  body: Readable,
  res: Response,
  onBytes: (n: number) => void,
): Promise<{ outcome: StreamOutcome; bytes: number; error?: unknown }> {
  let bytes = 0;
  let clientWentFirst = false;
  let upstreamFailedFirst = false;
  res.once('close', () => {
    if (!res.writableFinished && !upstreamFailedFirst) clientWentFirst = true;
  });
  body.once('error', () => {
    if (!clientWentFirst) upstreamFailedFirst = true;
  });

  const done = pipeline(body, res);
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    onBytes(chunk.length);
  });
  try {
    await done;
    return { outcome: 'complete', bytes };
  } catch (error) {
    res.destroy();
    return { outcome: clientWentFirst ? 'client_aborted' : 'upstream_failed', bytes, error };
  }
}
