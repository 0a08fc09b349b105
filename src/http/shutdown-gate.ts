import type { RequestHandler } from 'express';
import { AppError } from '../errors';
import type { Lifecycle } from '../lifecycle';
import { sendProblem } from './problem';

/** The health, readiness and metrics endpoints are never refused: an operator watches the drain through them. */
const NEVER_REFUSED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The shutdown (src/lifecycle.ts) as HTTP sees it: counts requests in flight,
 * says `Connection: close` once draining, and answers 503 NotReady once the
 * grace period is over. Mount it first.
 */
export function shutdownGate(lifecycle: Pick<Lifecycle, 'phase' | 'requests'>): RequestHandler {
  return (req, res, next) => {
    const phase = lifecycle.phase;
    if (phase !== 'serving') res.setHeader('Connection', 'close'); // move keep-alive callers elsewhere
    if (phase === 'refusing' && !NEVER_REFUSED.has(req.path)) {
      sendProblem(req, res, new AppError('NotReady', 'The service is shutting down; retry on another instance.'));
      return;
    }
    lifecycle.requests.started();
    res.once('close', lifecycle.requests.ended);
    next();
  };
}
