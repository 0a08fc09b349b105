import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { recordFirstByteTime } from './first-byte-time';

/**
 * One object per request that every layer writes its facts to, and one
 * 'close' listener that hands it to every layer that reports on a request
 * (stream slots, metrics, the request log line), in the order they were
 * registered when the app was built.
 *
 * This replaces what each layer did for itself: several `res.locals` writes,
 * a patched `writeHead` closure, a metrics timer closure and four 'close'
 * listeners per request, the largest share of the service's own CPU per small
 * GET (bench/ANALYSIS.md, "The lean request path"). The hooks are plain
 * functions built once; a request adds one object and one listener.
 */
export interface RequestContext {
  /** The request id: the caller's X-Request-Id when safe to echo, otherwise a new UUID. */
  readonly id: string;
  /** performance.now() when the request reached the app. */
  readonly startedAt: number;
  /** performance.now() when the response headers went out (the first byte the caller gets). */
  firstByteAt?: number;
  /** The connection's peer, read on arrival: once a response is destroyed its socket no longer knows it. */
  readonly remoteAddress: string | undefined;
  /** Set by the object routes: what the request was about. */
  object?: ObjectFacts;
  /** OSS's id for its request (an answer's header, or an error document). */
  ossRequestId?: string;
  /** Set while an object body streams; its `outcome` once it ended. */
  stream?: StreamProgress;
  /** Set by the stream guard (src/http/stream-guard.ts) while the request holds stream slots. */
  streamSlot?: StreamSlot;
  /** `req.log`, built on first use (src/observability/request-log.ts). */
  log?: Logger;
}

/** What the object routes say about a request, for the log line. */
export interface ObjectFacts {
  bucket: string;
  key?: string;
  prefix?: string;
}

/** How an object stream ended. */
export type StreamOutcome = 'complete' | 'client_aborted' | 'upstream_failed' | 'crc_mismatch';

/** Kept in the request context by the object routes while a body streams; `outcome` once it ended. */
export interface StreamProgress {
  bytes: number;
  outcome?: StreamOutcome;
}

/** Which slots a stream holds, and what the slow-client watch knows about it. */
export interface StreamSlot {
  /** The token caller whose per-caller slot is held; undefined in open mode. */
  readonly caller: string | undefined;
  /** socket.bytesWritten at the last look: the caller read something when it moved. */
  written: number;
  /** When the response was first seen blocked on a caller that reads nothing. */
  blockedSince?: number;
}

/** Runs once per request, when its response closes (completed, failed or abandoned). */
export type CloseHook = (ctx: RequestContext, req: Request, res: Response) => void;

declare module 'express-serve-static-core' {
  interface Request {
    /** This request's context (src/observability/request-context.ts). */
    context: RequestContext;
    /** The request id, as `req.context.id`. */
    id: string;
  }
}

/** An incoming X-Request-Id is kept only if it is safe to log and echo. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Mounts the context middleware first on `app` and returns the list of close
 * hooks: createApp pushes each layer's hook onto it while it builds the app.
 */
export function useRequestContext(app: Express): CloseHook[] {
  const hooks: CloseHook[] = [];
  recordFirstByteTime(app);

  function onClose(this: Response): void {
    const req = this.req;
    const ctx = req.context;
    for (let i = 0; i < hooks.length; i += 1) hooks[i](ctx, req, this);
  }

  app.use((req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.context = { id, startedAt: performance.now(), remoteAddress: req.socket.remoteAddress };
    req.id = id;
    res.setHeader('X-Request-Id', id);
    res.once('close', onClose);
    next();
  });
  return hooks;
}
