import { request as httpRequest } from 'node:http';

/** A response read whole, for tests that speak to the emulator without an SDK. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One HTTP request to the emulator with exactly the headers given (Host
 * included: it names the bucket), on a fresh connection. Tests use it to
 * replay a recorded request with a header changed, or to send what no SDK
 * would send.
 */
export function sendRaw(endpoint: string, request: { method: string; url: string; headers: Record<string, string> }): Promise<RawResponse> {
  const { hostname, port } = new URL(endpoint);
  const headers = { ...request.headers };
  delete headers.connection;
  return new Promise((resolve, reject) => {
    const options = { host: hostname, port, method: request.method, path: request.url, headers, agent: false };
    const req = httpRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
