import type { ServiceProcess } from '../../support/service-process';

/**
 * Resolves with the first log line of the service, at index `from` or later,
 * that satisfies `predicate`. The service is another process, so its stdout
 * is the event; this looks again every 20 ms, for at most `timeoutMs`.
 */
export async function waitForLog(
  service: ServiceProcess,
  predicate: (line: Record<string, unknown>) => boolean,
  from = 0,
  timeoutMs = 5_000,
): Promise<Record<string, unknown>> {
  for (let waited = 0; waited <= timeoutMs; waited += 20) {
    const line = service.logLines().slice(from).find(predicate);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no such log line within ${timeoutMs} ms:\n${service.output().slice(-2000)}`);
}
