import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Express, Response } from 'express';

/**
 * Patches `writeHead` on this app's response prototype to note when the
 * headers go out (RequestContext.firstByteAt: the time to first byte). Node
 * writes the headers through writeHead, called explicitly or from the first
 * write()/end(); one override per app costs less than a patched method per request.
 */
export function recordFirstByteTime(app: Express): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the response as `this`
  const writeHead = (Object.getPrototypeOf(app.response) as ServerResponse).writeHead;
  Object.defineProperty(app.response, 'writeHead', {
    configurable: true,
    writable: true,
    value: function writeHeadTimed(this: Response, ...args: unknown[]) {
      const ctx = this.req?.context;
      if (ctx !== undefined && ctx.firstByteAt === undefined) ctx.firstByteAt = performance.now();
      return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    },
  });
}
