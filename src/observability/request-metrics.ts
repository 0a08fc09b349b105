import { performance } from 'node:perf_hooks';
import type { Metrics } from '../metrics';
import type { CloseHook } from './request-context';
import { routeLabel, timeToFirstByteMs } from './request-facts';

interface RouteSeries {
  requests: { inc(): void };
  duration: { observe(seconds: number): void };
  timeToFirstByte: { observe(seconds: number): void };
}

/**
 * Requests by route, method and status, the duration and time-to-first-byte
 * histograms: observed once per request, from the request context's close
 * hook, on label children bound once per route, method and status (the
 * route pattern, Node's known methods and the status codes keep the map small).
 */
export function requestMetrics(metrics: Metrics): CloseHook {
  const series = new Map<string, RouteSeries>();
  const seriesFor = (route: string, method: string, status: number): RouteSeries => {
    const id = `${route} ${method} ${status}`;
    let found = series.get(id);
    if (found === undefined) {
      found = {
        requests: metrics.httpRequests.labels({ route, method, status: String(status) }),
        duration: metrics.httpDuration.labels({ route, method }),
        timeToFirstByte: metrics.httpTimeToFirstByte.labels({ route, method }),
      };
      series.set(id, found);
    }
    return found;
  };
  return (ctx, req, res) => {
    const s = seriesFor(routeLabel(req), req.method, res.statusCode);
    s.requests.inc();
    s.duration.observe((performance.now() - ctx.startedAt) / 1000);
    const ttfb = timeToFirstByteMs(ctx);
    if (ttfb !== undefined) s.timeToFirstByte.observe(ttfb / 1000);
  };
}
