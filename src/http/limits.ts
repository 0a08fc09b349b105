/**
 * MAX_STREAMS_PER_TOKEN when unset: a quarter of the process's streams, so
 * one caller cannot take them all and at least four callers get a share.
 */
export function defaultStreamsPerToken(maxConcurrentStreams: number): number {
  return Math.max(1, Math.floor(maxConcurrentStreams / 4));
}

/** Network and resource limits of the HTTP server (http-server.ts) and the guards (security-layer.ts); config.ts reads them from the environment. */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  maxUrlBytes: number;
  maxJsonBodyBytes: number;
  maxConcurrentStreams: number;
  /** Object streams one token caller may hold open (open mode has one caller: no per-caller cap). */
  maxStreamsPerToken: number;
  maxDownloadsPerToken: number;
  /** Disconnect a caller that has read nothing of a response for this long. */
  clientStallTimeoutMs: number;
}

/** The limits a service gets when nothing is configured (also the config defaults). */
export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16_384,
  maxUrlBytes: 8_192,
  maxJsonBodyBytes: 16_384,
  maxConcurrentStreams: 256,
  maxStreamsPerToken: defaultStreamsPerToken(256),
  maxDownloadsPerToken: 4,
  clientStallTimeoutMs: 60_000,
});
