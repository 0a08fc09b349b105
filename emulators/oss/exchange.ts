import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../src/clock';
import type { ClaimedIdentity } from './authenticate';
import { type OssError, renderErrorXml } from './error-xml';
import type { OssRequest } from './parse-request';
import { newRecord, type RecordedRequest } from './request-log';
import { newRequestId } from './request-id';

/**
 * One request/response pair: writes OSS's common headers, error answers, and
 * keeps the request record up to date until the connection lets go of it.
 */
export class Exchange {
  readonly requestId = newRequestId();
  readonly record: RecordedRequest;
  private readonly aborter = new AbortController();
  private readonly startedAt = performance.now();
  /** Set when the emulator itself cut the connection (a fault, or close()). */
  private endedByEmulator = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly clock: Clock,
    onEnd: (record: RecordedRequest) => void,
  ) {
    this.record = newRecord(this.requestId, req.method ?? 'GET', req.url ?? '/');
    res.on('close', () => {
      this.aborter.abort();
      this.record.completed = res.writableFinished && !this.endedByEmulator;
      this.record.clientAborted = !this.record.completed && !this.endedByEmulator;
      onEnd(this.record);
    });
  }

  /** Aborts when the connection closes, whoever closed it. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get isHead(): boolean {
    return this.record.method === 'HEAD';
  }

  describe(request: OssRequest, identity: ClaimedIdentity): void {
    Object.assign(this.record, {
      bucket: request.bucket,
      key: request.key,
      query: { ...request.query },
      headers: { ...request.headers },
      ...identity,
    });
  }

  writeHead(status: number, headers: Record<string, string>): void {
    this.record.status = status;
    this.res.writeHead(status, {
      Server: 'AliyunOSS',
      Date: new Date(this.clock.now()).toUTCString(),
      'x-oss-request-id': this.requestId,
      'x-oss-server-time': String(Math.round(performance.now() - this.startedAt)),
      ...headers,
    });
  }

  sendXml(status: number, xml: string, headers: Record<string, string> = {}): void {
    const body = Buffer.from(xml, 'utf8');
    this.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': String(body.length), ...headers });
    this.finishWith(this.isHead ? undefined : body);
  }

  /**
   * OSS's error answer. HEAD has no body, so OSS repeats the XML, base64, in
   * `x-oss-err` (ali-oss and the other SDKs read it from there).
   */
  sendError(error: OssError, hostId: string): void {
    this.record.code = error.code;
    const xml = renderErrorXml(error, this.requestId, hostId);
    const headers: Record<string, string> = { 'x-oss-ec': error.ec, ...error.headers };
    if (this.isHead) headers['x-oss-err'] = Buffer.from(xml, 'utf8').toString('base64');
    this.sendXml(error.status, xml, headers);
  }

  /** Ends the response; the body may be absent (HEAD, 304). */
  finishWith(body?: Buffer): void {
    if (body !== undefined && body.length > 0) this.record.bytesSent += body.length;
    this.res.end(body);
  }

  /** Drops the connection on purpose: not a client abort. */
  cut(): void {
    this.endedByEmulator = true;
    this.req.socket.destroy();
  }

  /** The emulator is closing: what follows is not the client's doing. */
  markEndedByEmulator(): void {
    this.endedByEmulator = true;
  }
}
