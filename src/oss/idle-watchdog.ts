import type { IncomingMessage } from 'node:http';

/**
 * Abort an upstream body that stops sending. ali-oss applies its timeout only
 * until the response headers arrive; after that a stalled OSS connection would
 * hold the caller (and a socket) forever.
 *
 * It watches the socket's byte counter instead of listening for 'data' (a
 * listener would switch the stream to flowing mode before it is piped), and a
 * body that holds unread bytes is waiting for a slow caller, not for OSS:
 * backpressure is not a stall (Node stops reading the socket only once the
 * body's buffer is full). A paused body with nothing buffered is waiting for
 * OSS, unless OSS already sent all of it (`complete`): the last bytes can be
 * handed on and the body paused before its 'end' is emitted. Counting every
 * paused body as backpressure let a download part, paused while a batch is
 * written, hang forever on an OSS connection stalled mid-body.
 */
export function watchIdleBody(body: IncomingMessage, idleMs: number, onStall: () => void): void {
  if (idleMs <= 0) return;
  let lastBytes = body.socket?.bytesRead ?? 0;
  const timer = setInterval(check, Math.max(10, Math.floor(idleMs / 2)));
  timer.unref();
  let quietSince = Date.now();

  function check(): void {
    if (body.complete) return void clearInterval(timer); // OSS sent every byte: nothing left to stall
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
