import type { SignatureVersion } from './authenticate';
import type { FaultKind } from './faults';

/**
 * One request as the emulator saw it, for assertions. The record is created
 * when the request arrives and completed when the response ends or the
 * connection closes; the emulator's `events` emit 'request-end' with it then,
 * so a test awaits that instead of sleeping.
 */
export interface RecordedRequest {
  requestId: string;
  method: string;
  /** The request target as sent (path and query, still percent-encoded). */
  url: string;
  bucket: string;
  key: string;
  query: Record<string, string>;
  /** Lower-cased names; a copy, safe to keep. */
  headers: Record<string, string>;
  accessKeyId?: string;
  securityToken?: string;
  signatureVersion: SignatureVersion;
  /** The role the credential acts as, once authenticated. */
  principal?: string;
  /** 0 when no status line was sent (reset before headers). */
  status: number;
  /** The OSS error code, for error answers. */
  code?: string;
  /** Body bytes handed to the socket. */
  bytesSent: number;
  /** The whole response went out. */
  completed: boolean;
  /** The client closed the connection before the response was complete. */
  clientAborted: boolean;
  /** Faults that acted on this request, in order. */
  faults: FaultKind[];
}

export function newRecord(requestId: string, method: string, url: string): RecordedRequest {
  return {
    requestId,
    method,
    url,
    bucket: '',
    key: '',
    query: {},
    headers: {},
    signatureVersion: 'anonymous',
    status: 0,
    bytesSent: 0,
    completed: false,
    clientAborted: false,
    faults: [],
  };
}
