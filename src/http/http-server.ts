import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestListener } from 'node:http';
import type { HttpLimits } from './limits';
import { AppError } from '../errors';
import { problemBody } from './problem';

/**
 * The HTTP server with its limits: how long a caller may take to send its
 * headers and its request, how long an idle keep-alive connection stays, and
 * how large the headers may be. Errors Node's parser raises before Express
 * sees a request (headers too large, malformed HTTP, timeouts) are answered
 * as problem+json too, then the connection is closed.
 */
export function createHttpServer(app: RequestListener, limits: HttpLimits): http.Server {
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for connections past headersTimeout / requestTimeout (default 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    app,
  );
  server.on('clientError', answerClientError);
  return server;
}

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Once anything was written on this connection (a 401 sent before its request body arrived, then
  // the body timed out), another status line would corrupt the exchange: just close.
  const answered = (socket as Socket).bytesWritten > 0;
  if (err.code === 'ECONNRESET' || !socket.writable || answered) {
    socket.destroy();
    return;
  }
  const problem = clientProblem(err.code);
  const body = JSON.stringify(problemBody(problem, randomUUID()));
  socket.end(
    `HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status]}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function clientProblem(code: string | undefined): AppError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new AppError('InvalidRequest', 'The request headers are too large.', { status: 431 });
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') {
    return new AppError('InvalidRequest', 'The request took too long to arrive.', { status: 408 });
  }
  return new AppError('InvalidRequest', 'The request is not valid HTTP/1.1.');
}
