import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import path from 'node:path';
import type { RecordedRequest } from '../../emulators/oss/oss-emulator';
import { parseCheckpoint, type Checkpoint } from '../../src/downloads/checkpoint';
import { sideFilesOf } from '../../src/downloads/download-path';
import type { Stack } from './stack';

/** Helpers for the /v1/downloads tests: the API over real HTTP, and what the disk holds. */

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function api(stack: Stack, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const res = await fetch(`${stack.baseUrl}${url}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export function postDownload(stack: Stack, body: unknown, wait = true): Promise<ApiAnswer> {
  return api(stack, 'POST', `/v1/downloads${wait ? '?wait=true' : ''}`, body);
}

/** The checkpoint at `file`, read as a test reads it: by path. */
export function readCheckpointFile(file: string): Checkpoint | undefined {
  return existsSync(file) ? parseCheckpoint(readFileSync(file, 'utf8')) : undefined;
}

/** The checkpoint file beside the download target `target`. */
export function checkpointOf(target: string): string {
  return path.join(path.dirname(target), sideFilesOf(path.basename(target)).checkpoint);
}

/** Every file below `dir`, relative, hidden temporaries included. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** The ranged GETs the emulator answered for `key`, as "start-end". */
export function rangesFetched(requests: RecordedRequest[], key: string): string[] {
  return requests
    .filter((r) => r.method === 'GET' && r.key === key && r.headers.range !== undefined)
    .map((r) => r.headers.range.replace(/^bytes=/, ''));
}

/** Resolves when the emulator applies a fault of `kind` to a request for `key`: an event, not a sleep. */
export function awaitFault(stack: Stack, key: string, kind: string, timeoutMs = 10_000): Promise<RecordedRequest> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${kind} fault on ${key}`)), timeoutMs);
    const listener = (record: RecordedRequest, applied: string) => {
      if (record.key !== key || applied !== kind) return;
      clearTimeout(timer);
      stack.oss.events.off('fault', listener);
      resolve(record);
    };
    stack.oss.events.on('fault', listener);
  });
}

/** Resolves once the checkpoint lists at least `parts` finished parts; driven by file events, bounded in time. */
export function checkpointWith(file: string, parts: number, timeoutMs = 30_000): Promise<Checkpoint> {
  return new Promise((resolve, reject) => {
    const watcher = watch(path.dirname(file));
    const timer = setTimeout(() => finish(new Error(`the checkpoint never listed ${parts} parts`)), timeoutMs);
    let checking = false;
    let again = false;
    // An event that arrives while a read is in progress triggers one more read: none is lost.
    const check = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      do {
        again = false;
        const checkpoint = readCheckpointFile(file);
        if (checkpoint && Object.keys(checkpoint.parts).length >= parts) {
          finish(undefined, checkpoint);
          break;
        }
      } while (again);
      checking = false;
    };
    function finish(error?: Error, checkpoint?: Checkpoint): void {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve(checkpoint!);
    }
    watcher.on('change', () => void check());
  });
}
