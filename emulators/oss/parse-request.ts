import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { OssError } from './error-xml';

/** What the emulator needs from an HTTP request, addressing resolved. */
export interface OssRequest {
  method: string;
  /** '' for a service-level request (no bucket in Host or path). */
  bucket: string;
  /** The object key, percent-decoded once; '' for bucket-level requests. */
  key: string;
  /** Query parameters, percent-decoded, in the order sent. */
  queryPairs: Array<[string, string]>;
  query: Record<string, string>;
  /** Lower-cased names; Node already joined repeated headers. */
  headers: Record<string, string>;
  /** The Host header as sent: OSS echoes it as HostId in errors. */
  host: string;
}

export function parseOssRequest(req: IncomingMessage): OssRequest {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : url.slice(queryStart + 1);
  const headers = copyHeaders(req);
  const host = headers.host ?? '';
  const queryPairs = parseQuery(rawQuery);
  const { bucket, key } = resolveAddress(host, decodeOnce(rawPath));
  return { method: req.method ?? 'GET', bucket, key, queryPairs, query: Object.fromEntries(queryPairs), headers, host };
}

/**
 * Virtual-host addressing: `{bucket}.oss-{region}.aliyuncs.com` names the
 * bucket in its first label and the path is `/{key}`. ali-oss keeps that Host
 * even when its endpoint is an IP. A bare IP or `localhost` Host (curl against
 * the emulator) falls back to path style, `/{bucket}/{key}`.
 */
function resolveAddress(host: string, path: string): { bucket: string; key: string } {
  const hostname = stripPort(host);
  if (isIP(hostname) !== 0 || hostname === 'localhost') {
    const [bucket, ...rest] = path.slice(1).split('/');
    return { bucket: bucket ?? '', key: rest.join('/') };
  }
  const labels = hostname.split('.');
  // `oss-cn-hangzhou.aliyuncs.com` alone is the service endpoint, no bucket.
  const bucket = labels.length >= 4 ? labels[0] : '';
  return { bucket, key: path.slice(1) };
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function decodeOnce(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new OssError('InvalidURI');
  }
}

/**
 * `+` stays a plus: ali-oss escapes a literal plus as %2B and spaces as %20, so
 * form decoding (`+` as space) would corrupt continuation tokens and prefixes.
 */
function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      return [decodeOnce(name), decodeOnce(value)];
    });
}

function copyHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}
