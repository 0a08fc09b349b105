import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { SignedRequest } from './oss-request-signer';

/**
 * Sends signed OSS requests over undici: one keep-alive pool per OSS origin
 * (the Agent keeps them), no retries, no redirects followed.
 *
 * - `headersTimeout` (OSS_REQUEST_TIMEOUT_SECONDS, also the connect timeout):
 *   no status line and headers in time fails the request with
 *   HeadersTimeoutError (ConnectTimeoutError).
 * - `bodyTimeout` (OSS_IDLE_TIMEOUT_SECONDS): a body that receives nothing for
 *   that long is destroyed with BodyTimeoutError (the store makes it its own
 *   504 UpstreamUnavailable). undici does not count the
 *   time a body is paused by a slow reader (backpressure is not a stall), and
 *   a body that has its last byte cannot stall: the rules the service's own
 *   idle watchdog kept for urllib, which has no body timeout.
 */
export interface OssTransportOptions {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  /** Resolves OSS host names; default: the system's. (Tests resolve every name to loopback.) */
  lookup?: LookupFunction;
}

export interface OssAnswer {
  status: number;
  /** Lower-case names; a repeated header joined with `, `. */
  headers: Record<string, string>;
  /** Read it to its end or destroy it: either frees the connection. */
  body: Readable;
}

export class OssTransport {
  private readonly agent: Agent;

  constructor(options: OssTransportOptions) {
    this.agent = new Agent({
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      connect: { timeout: options.requestTimeoutMs, ...(options.lookup ? { lookup: options.lookup } : {}) },
    });
  }

  /** Rejects with undici's error when no answer came (oss-errors.ts `networkError` reads it). */
  async send(request: SignedRequest): Promise<OssAnswer> {
    const answer = await this.agent.request({
      origin: request.origin,
      path: request.path,
      method: request.method,
      headers: request.headers,
      // undici closes the connection after a HEAD unless told not to (a guard against servers that
      // send a body with it); OSS does not, and urllib kept it open: same wire, and the socket is reused.
      reset: false,
    });
    // undici errors a body its reader destroys early (RequestAbortedError), where Node's IncomingMessage
    // just closed: a caller gone or a 206 not used must not become an unhandled 'error'. Readers that
    // care about a failure (stream-body.ts, the downloads) listen for it themselves.
    answer.body.on('error', ignoreError);
    return { status: answer.statusCode, headers: flatHeaders(answer.headers), body: answer.body };
  }

  /** Cuts every connection, in flight or idle: for shutdown, after the drain. */
  close(): Promise<void> {
    return this.agent.destroy();
  }
}

function ignoreError(): void {}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
