import http from 'node:http';

/**
 * What a caller of the service can receive when something upstream breaks,
 * sorted into the only acceptable kinds and the unacceptable ones:
 * - `ok`: the status expected, Content-Length equal to the expected length, the expected bytes;
 * - `broken`: the headers came, then the transfer broke (the caller knows it is incomplete);
 * - `5xx`: a problem+json error answer;
 * - `wrong`: anything else with a clean end (wrong bytes, a short 200, an unexpected status);
 * - `no-answer`: the connection failed before any status line.
 * Every scenario asserts that `wrong` and `no-answer` never happen.
 */
export type Verdict = 'ok' | 'broken' | '5xx' | 'wrong' | 'no-answer';

export interface Judged {
  verdict: Verdict;
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** The problem+json `code` of an error answer. */
  code?: string;
  /** For `no-answer`: the connection error (ECONNREFUSED: nobody took the request; ECONNRESET: it was dropped). */
  errorCode?: string;
  /** The caller gave up: no complete answer within the timeout. */
  timedOut?: boolean;
}

export interface Expectation {
  status?: number;
  /** The exact body; undefined: any body, only the status and a clean end count. */
  body?: Buffer;
}

/** GET (or HEAD) over a fresh connection, never rejecting: the outcome is the verdict. */
export function fetchAndJudge(
  url: string,
  expected: Expectation,
  options: { headers?: Record<string, string>; method?: string; timeoutMs?: number } = {},
): Promise<Judged> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (judged: Judged) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(judged);
    };
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const status = res.statusCode ?? 0;
      res.once('end', () => {
        try {
          settle(judge(status, res.headers, Buffer.concat(chunks), expected, options.method ?? 'GET'));
        } catch {
          settle({ verdict: 'wrong', status, bytes: Buffer.concat(chunks).length }); // e.g. an error body that is not JSON
        }
      });
      res.once('aborted', () => settle({ verdict: 'broken', status, bytes: Buffer.concat(chunks).length, timedOut }));
      res.once('error', () => settle({ verdict: 'broken', status, bytes: Buffer.concat(chunks).length, timedOut }));
    });
    // Bounded: a caller left hanging past this is an answer that never came.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error('timed out'));
    }, options.timeoutMs ?? 30_000);
    req.once('error', (error: NodeJS.ErrnoException) =>
      settle({ verdict: 'no-answer', status: 0, bytes: 0, errorCode: error.code ?? error.message, timedOut }),
    );
    req.end();
  });
}

function judge(status: number, headers: http.IncomingHttpHeaders, body: Buffer, expected: Expectation, method: string): Judged {
  if (status >= 500) {
    // A HEAD error answer has the problem's headers and no body to parse.
    const isProblem = headers['content-type']?.startsWith('application/problem+json') === true;
    const code = isProblem && body.length > 0 ? (JSON.parse(body.toString('utf8')) as { code?: string }).code : undefined;
    return { verdict: isProblem ? '5xx' : 'wrong', status, bytes: body.length, code };
  }
  const wantStatus = expected.status ?? 200;
  if (expected.body === undefined) return { verdict: status === wantStatus ? 'ok' : 'wrong', status, bytes: body.length };
  const length = Number(headers['content-length']);
  const bodyRight = method === 'HEAD' ? body.length === 0 : body.equals(expected.body);
  const ok = status === wantStatus && length === expected.body.length && bodyRight;
  return { verdict: ok ? 'ok' : 'wrong', status, bytes: body.length };
}

export function countVerdicts(results: Judged[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { ok: 0, broken: 0, '5xx': 0, wrong: 0, 'no-answer': 0 };
  for (const r of results) counts[r.verdict] += 1;
  return counts;
}

/** Runs `task` for indexes 0..total-1 with `concurrency` workers; bounded by count. */
export async function runPool<T>(total: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/** A small seeded PRNG (mulberry32), so a "random" mix of faults is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
