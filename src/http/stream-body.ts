import type { Readable } from 'node:stream';
import type { Response } from 'express';
import { Crc64, type Crc64Hasher } from '../crc64-choice';
import type { StreamOutcome, StreamProgress } from '../observability/request-context';
import { Crc64MismatchError } from './crc64-verifier';

export interface StreamResult {
  outcome: StreamOutcome;
  /** Body bytes handed to the response. */
  bytes: number;
  error?: unknown;
}

export interface StreamOptions {
  /** Counted as bytes go to the caller (`bytes`, and `outcome` at the end). */
  progress: StreamProgress;
  /** Called with each chunk's length as it goes to the caller (the bytes-streamed counter). */
  onBytes: (n: number) => void;
  /** OSS's CRC64 of the whole object: the bytes are checked against it as they pass. */
  expectedCrc64?: bigint;
}

/**
 * Sends an object body to the caller, so that either side failing tears down
 * the other:
 * - the caller goes away: the upstream body is destroyed at once, which closes
 *   the OSS connection instead of reading the rest of the object for nobody;
 * - OSS fails mid-body (reset, stall, idle timeout), or the bytes do not match
 *   `expectedCrc64`: the response is destroyed, so the caller sees a broken
 *   transfer, never a short or corrupt body that looks whole.
 *
 * The CRC check holds back the latest chunk: the verdict is known only after
 * the last byte, and a caller that was told Content-Length and got every byte
 * would hold a body that looks whole. On a match the held chunk goes out with
 * the end; on a mismatch the response is destroyed short of it. (An empty body
 * has nothing to hold back, and nothing to get wrong.)
 *
 * Written by hand rather than with `stream.pipeline` and a Transform: with two
 * streams and these three rules the teardown fits in the handlers below, and
 * pipeline's per-call AbortController, the DOMException and the
 * ERR_STREAM_DESTROYED errors (with stack traces) it builds when it finishes,
 * its seven 'close' listeners and the Transform were about a fifth of the
 * app's CPU per small GET (bench/ANALYSIS.md, "The lean request path").
 * The handlers are module functions that find their stream's state through a
 * symbol, not closures built per stream.
 */
export function streamBody(body: Readable, res: Response, options: StreamOptions): Promise<StreamResult> {
  return new Promise((settle) => {
    const relay: Relay = {
      body,
      res,
      progress: options.progress,
      onBytes: options.onBytes,
      crc: options.expectedCrc64 === undefined ? undefined : new Crc64(),
      expected: options.expectedCrc64,
      held: undefined,
      failure: undefined,
      settle,
    };
    if (res.destroyed) {
      // The caller left while OSS was answering.
      body.destroy();
      settleWith(relay, { outcome: 'client_aborted', bytes: 0 });
      return;
    }
    (body as unknown as Relayed)[RELAY] = relay;
    (res as unknown as Relayed)[RELAY] = relay;
    res.once('close', onResponseClose);
    res.on('error', ignoreResponseError);
    body.once('error', onBodyError);
    body.once('close', onBodyClose);
    body.once('end', onBodyEnd);
    body.on('data', onData);
  });
}

const RELAY = Symbol('relay');

interface Relay {
  readonly body: Readable;
  readonly res: Response;
  readonly progress: StreamProgress;
  readonly onBytes: (n: number) => void;
  readonly crc: Crc64Hasher | undefined;
  readonly expected: bigint | undefined;
  /** The chunk the CRC check holds back until the verdict. */
  held: Buffer | undefined;
  /** Set when the upstream side failed: the response is destroyed and its 'close' settles with this. */
  failure: StreamResult | undefined;
  settle: ((result: StreamResult) => void) | undefined;
}

type Relayed = { [RELAY]: Relay };

const relayOf = (stream: object): Relay => (stream as Relayed)[RELAY];

function onData(this: Readable, chunk: Buffer): void {
  const relay = relayOf(this);
  if (relay.crc === undefined) return send(relay, chunk);
  relay.crc.update(chunk);
  const previous = relay.held;
  relay.held = chunk;
  if (previous !== undefined) send(relay, previous);
}

function send(relay: Relay, chunk: Buffer): void {
  relay.progress.bytes += chunk.length;
  relay.onBytes(chunk.length);
  if (!relay.res.write(chunk)) {
    // The caller reads slower than OSS sends: wait for it rather than buffer the object.
    relay.body.pause();
    relay.res.once('drain', onDrain);
  }
}

function onDrain(this: Response): void {
  relayOf(this).body.resume();
}

function onBodyEnd(this: Readable): void {
  const relay = relayOf(this);
  if (relay.res.destroyed) return;
  if (relay.crc !== undefined) {
    const actual = relay.crc.digest();
    if (actual !== relay.expected) {
      failUpstream(relay, { outcome: 'crc_mismatch', bytes: relay.progress.bytes, error: new Crc64MismatchError(relay.expected!, actual) });
      return;
    }
    const last = relay.held;
    relay.held = undefined;
    if (last !== undefined) {
      relay.progress.bytes += last.length;
      relay.onBytes(last.length);
      relay.res.end(last);
      return;
    }
  }
  relay.res.end();
}

function onBodyError(this: Readable, error: Error): void {
  const relay = relayOf(this);
  failUpstream(relay, { outcome: 'upstream_failed', bytes: relay.progress.bytes, error });
}

/** A body destroyed before its end without an error (its socket closed) is a failure too, never a short body. */
function onBodyClose(this: Readable): void {
  const relay = relayOf(this);
  if (!this.readableEnded && !this.errored) {
    failUpstream(relay, { outcome: 'upstream_failed', bytes: relay.progress.bytes, error: new Error('the OSS body closed before its end') });
  }
}

/**
 * Breaks the transfer off. The headers go out with the first body bytes (one
 * write for a small object); if the body failed before any (the CRC check held
 * the only chunk back), the status line goes out now, just before the
 * response is destroyed: the caller gets a status line and a broken transfer,
 * not a bare reset.
 */
function failUpstream(relay: Relay, result: StreamResult): void {
  const { res } = relay;
  if (res.destroyed || relay.failure !== undefined) return;
  relay.failure = result;
  relay.progress.outcome = result.outcome; // before the 'close' that writes the request log line
  if (!res.headersSent) res.flushHeaders();
  // What was written in this tick is still corked in the socket (Node sends it on the next
  // tick): send it before the reset, or a body that fails at once would lose its status line.
  res.socket?.uncork();
  res.destroy();
}

/** The response is done, broken off, or abandoned by the caller: the end of the stream either way. */
function onResponseClose(this: Response): void {
  const relay = relayOf(this);
  const { body } = relay;
  body.off('data', onData);
  this.off('drain', onDrain);
  if (relay.failure !== undefined) return settleWith(relay, relay.failure);
  if (this.writableFinished) return settleWith(relay, { outcome: 'complete', bytes: relay.progress.bytes });
  body.destroy(); // the caller went first: close the OSS connection now
  settleWith(relay, { outcome: 'client_aborted', bytes: relay.progress.bytes });
}

function settleWith(relay: Relay, result: StreamResult): void {
  relay.progress.outcome = result.outcome;
  relay.settle?.(result);
  relay.settle = undefined;
}

/** Write errors end in 'close' like any other end of the response; without a listener one would be thrown. */
function ignoreResponseError(): void {}
