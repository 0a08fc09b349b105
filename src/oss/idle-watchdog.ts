import type { IncomingMessage } from 'node:http';

/**
 * Abort an upstream body that stops sending. ali-oss applies its timeout only
 * until the response headers arrive; after that a stalled OSS connection would
 * hold the caller (and a socket) forever.
 *
 * It watches the socket's byte counter instead of listening for 'data' (a
 * listener would switch the stream to flowing mode before it is piped), and a
 * body that holds unread bytes is waiting for a slow caller, not for OSS:
 * backpressure is not a stall. A paused body with nothing buffered is waiting
 * for OSS: that is how an async iterator (`for await`, the download parts)
 * reads, and counting it as backpressure let a part stalled mid-body hang its
 * download forever.
 */
export function watchIdleBody(body: IncomingMessage, idleMs: number, onStall: () => void): void {
  if (idleMs <= 0) return;
  let lastBytes = body.socket?.bytesRead ?? 0;
  const timer = setInterval(check, Math.max(10, Math.floor(idleMs / 2)));
  timer.unref();
  let quietSince = Date.now();

  function check(): void {
    const bytes = body.socket?.bytesRead ?? lastBytes;
    const waitingForCaller = body.readableLength > 0;
    if (bytes !== lastBytes || waitingForCaller) {
      lastBytes = bytes;
      quietSince = Date.now();
      return;
    }
    if (Date.now() - quietSince >= idleMs) {
      clearInterval(timer);
      onStall();
    }
  }

  body.once('close', () => clearInterval(timer));
}
