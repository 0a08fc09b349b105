import http from 'node:http';

/**
 * A plain HTTP/1.1 client for scenarios that talk to the service over loopback: the whole body
 * as bytes, a bounded wait, and a `written` promise that settles once the request has been
 * handed to the socket (so a scenario knows its requests are at the server).
 */

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpRequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** The whole exchange, connection to last byte. Default 10 s. */
  timeoutMs?: number;
  agent?: http.Agent;
}

export interface PendingRequest {
  readonly answer: Promise<HttpAnswer>;
  /** Resolves with performance.now() once the request is on the socket; with NaN when it failed before. */
  readonly written: Promise<number>;
}

export function sendRequest(url: string, options: HttpRequestOptions = {}): PendingRequest {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let markWritten: (at: number) => void = () => undefined;
  const written = new Promise<number>((resolve) => (markWritten = resolve));
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent });
    const timer = setTimeout(() => req.destroy(new Error(`${options.method ?? 'GET'} ${url}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.once('finish', () => markWritten(performance.now()));
    req.once('error', (error) => {
      clearTimeout(timer);
      markWritten(Number.NaN); // a no-op when it was written already
      reject(error);
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end();
  });
  return { answer, written };
}

export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  return sendRequest(url, options).answer;
}
