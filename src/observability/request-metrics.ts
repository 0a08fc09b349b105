import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from '../metrics';
import { routeLabel, timeToFirstByteMs } from './request-facts';

/** Requests by route and status, duration and time-to-first-byte histograms; observed when the response closes. */
export function requestMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const stop = metrics.httpDuration.startTimer();
    res.once('close', () => {
      const labels = { route: routeLabel(req), method: req.method };
      metrics.httpRequests.inc({ ...labels, status: String(res.statusCode) });
      stop(labels);
      const ttfb = timeToFirstByteMs(res);
      if (ttfb !== undefined) metrics.httpTimeToFirstByte.observe(labels, ttfb / 1000);
    });
    next();
  };
}
