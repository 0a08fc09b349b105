import { run } from './processes';

/** The load generators: curl for large bodies, autocannon for many small requests. Both are separate processes. */

export interface CurlResult {
  bytes: number;
  bytesPerSecond: number;
  status: number;
}

export async function curl(url: string, headers: Record<string, string> = {}, timeoutMs = 300_000): Promise<CurlResult> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const out = await run(
    'curl',
    ['-s', '-o', '/dev/null', '--max-time', String(timeoutMs / 1000), '-w', '%{size_download} %{speed_download} %{http_code}', ...headerArgs, url],
    timeoutMs + 5000,
  );
  const [bytes, speed, status] = out.trim().split(' ').map(Number);
  return { bytes, bytesPerSecond: speed, status };
}

/** `count` curls at once; the aggregate is all bytes over the wall time from first start to last finish. */
export async function curlMany(
  count: number,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ bytes: number; seconds: number; statuses: number[]; sizes: number[] }> {
  const started = process.hrtime.bigint();
  const failed: CurlResult = { bytes: 0, bytesPerSecond: 0, status: 0 };
  const results = await Promise.all(Array.from({ length: count }, () => curl(url, headers).catch(() => failed)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    bytes: results.reduce((sum, r) => sum + (r.bytes || 0), 0),
    seconds,
    statuses: results.map((r) => r.status || 0),
    sizes: results.map((r) => r.bytes || 0),
  };
}

export interface AutocannonResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** 3xx answers (counted in non2xx too): the redirect-mode target expects nothing else. */
  redirects: number;
  errors: number;
  total: number;
}

export async function autocannon(url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<AutocannonResult> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  const out = await run(
    'node_modules/.bin/autocannon',
    ['-j', '-c', String(connections), '-d', String(seconds), ...headerArgs, url],
    (seconds + 30) * 1000,
  );
  const r = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    '3xx'?: number;
    errors: number;
  };
  return {
    requestsPerSecond: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    redirects: r['3xx'] ?? 0,
    errors: r.errors,
    total: r.requests.total,
  };
}
