import net from 'node:net';

/**
 * HTTP/1.1 written byte for byte on a fresh TCP connection: hostile requests
 * that Node's http client refuses to send (raw control characters, CR/LF in
 * headers, absolute-form targets, unencoded .. segments, invalid methods).
 * Every request says `Connection: close`, so the answer ends with the socket.
 */
export interface RawAnswer {
  /** 0: the server closed the connection without an answer. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Status line and headers as received, for leak scans. */
  head: string;
}

export interface RawRequest {
  method?: string;
  /** The request target, sent as is (required unless `verbatim`). */
  target?: string;
  headers?: Record<string, string>;
  /** Extra header lines written verbatim (CR/LF injection, folding, duplicates). */
  rawHeaderLines?: string[];
  body?: string | Buffer;
  /** The whole request verbatim instead (request-line attacks). */
  verbatim?: string;
}

export function encodeRequest(request: RawRequest): Buffer {
  if (request.verbatim !== undefined) return Buffer.from(request.verbatim, 'latin1');
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers: Record<string, string> = { Host: '127.0.0.1', Connection: 'close', ...request.headers };
  if (body && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h))) {
    headers['Content-Length'] = String(body.length);
  }
  const lines = [`${request.method ?? 'GET'} ${request.target ?? '/'} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  lines.push(...(request.rawHeaderLines ?? []));
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}

export function rawRequest(port: number, request: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${request.method ?? 'GET'} ${(request.target ?? request.verbatim ?? '').slice(0, 80)}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the answer is still an answer
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks)));
    });
    socket.write(encodeRequest(request));
  });
}

function parseAnswer(bytes: Buffer): RawAnswer {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, headers: {}, body: Buffer.alloc(0), head: bytes.toString('latin1') };
  const head = bytes.subarray(0, end).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: bytes.subarray(end + 4), head };
}
