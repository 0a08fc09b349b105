import { readFileSync } from 'node:fs';
import type { Fault, FaultKind } from '../../emulators/oss/oss-emulator';
import { BUCKET } from '../support/stack';
import { recordFigures } from './support/figures';
import { startServiceStack, type ServiceStack } from './support/service-stack';
import { countVerdicts, fetchAndJudge, seededRandom, type Judged } from './support/verdict';

/**
 * A soak: mixed traffic against the built service (small and large GETs,
 * ranges, HEADs, misses, listings) with OSS faults sprinkled in and the
 * credential rotating (old one revoked), bounded in time and in count.
 * SOAK_SECONDS sets the length: a short default for CI, 600 for the record in
 * bench/RESULTS.md. Reports answers by kind and the service's RSS over time.
 */
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 8);
const MAX_REQUESTS = SOAK_SECONDS * 400;
const WORKERS = 6;
/** Every request is bounded: a caller still waiting after this counts as unanswered. */
const timeoutMs = 20_000;
const MIB = 1024 * 1024;
jest.setTimeout(SOAK_SECONDS * 1000 + 2 * timeoutMs + 30_000);

const OBJECTS = { small: 'soak/small.bin', medium: 'soak/1m.bin', large: 'soak/8m.bin' };
const FAULTS: Fault[] = [
  { kind: 'status', status: 500, code: 'InternalError' },
  { kind: 'status', status: 503, code: 'ServiceUnavailable' },
  { kind: 'reset-before-headers' },
  { kind: 'drop-mid-body', afterBytes: 100_000 },
  { kind: 'stall-mid-body', afterBytes: 50_000, ms: 200 },
  { kind: 'stall-mid-body', afterBytes: 150_000 }, // past the 1 s idle timeout: a broken transfer
  { kind: 'latency', ms: 50 },
  { kind: 'bandwidth', bytesPerSecond: 8 * MIB },
];

describe('soak', () => {
  let stack: ServiceStack;
  beforeAll(async () => {
    stack = await startServiceStack({ LOG_LEVEL: 'info', OSS_IDLE_TIMEOUT_SECONDS: '1' });
    stack.oss.putGeneratedObject(BUCKET, OBJECTS.small, 4096, 21);
    stack.oss.putGeneratedObject(BUCKET, OBJECTS.medium, MIB, 22);
    stack.oss.putGeneratedObject(BUCKET, OBJECTS.large, 8 * MIB, 23);
  });
  afterAll(() => stack.close());

  it(`serves ${SOAK_SECONDS} s of mixed traffic with faults, never a wrong byte, RSS not growing`, async () => {
    const expected = Object.fromEntries(Object.entries(OBJECTS).map(([name, key]) => [name, stack.oss.expectedBytes(BUCKET, key)]));
    const random = seededRandom(600);
    const base = `${stack.service.baseUrl}/v1/objects/${BUCKET}`;
    const results: { op: string; judged: Judged; fault?: string }[] = [];
    const faultsInjected: Partial<Record<FaultKind, number>> = {};
    stack.oss.events.on('fault', (_r, kind: FaultKind) => (faultsInjected[kind] = (faultsInjected[kind] ?? 0) + 1));

    const rss: { second: number; mib: number }[] = [];
    const started = Date.now();
    const inFlight = new Map<number, { op: string; since: number }>();
    let nextId = 0;
    const sampler = setInterval(() => {
      rss.push({ second: Math.round((Date.now() - started) / 1000), mib: rssMib(stack.service.pid) });
      if (process.env.SOAK_PROGRESS) {
        const oldest = [...inFlight.values()].sort((a, b) => a.since - b.since)[0];
        process.stderr.write(
          `soak ${rss.at(-1)!.second}s: ${results.length} answers, RSS ${rss.at(-1)!.mib} MiB, oldest in flight: ${oldest ? `${oldest.op} for ${Date.now() - oldest.since} ms` : 'none'}\n`,
        );
      }
    }, 1000);
    let rotations = 0;
    const rotator = setInterval(() => {
      const old = stack.metadata.current();
      stack.metadata.rotate();
      if (old) stack.sts.revoke(old.accessKeyId);
      rotations += 1;
    }, 2000);

    const one = async (): Promise<{ op: string; judged: Judged; fault?: string }> => {
      const pick = random();
      let fault: string | undefined;
      if (random() < 0.15) {
        const spec = FAULTS[Math.floor(random() * FAULTS.length)];
        fault = JSON.stringify(spec);
        stack.oss.injectFault({ ...spec, match: { key: pick < 0.45 ? OBJECTS.small : pick < 0.8 ? OBJECTS.large : OBJECTS.medium } });
      }
      const id = nextId++;
      inFlight.set(id, { op: String(pick), since: Date.now() });
      try {
        return { ...(await request(pick)), fault };
      } finally {
        inFlight.delete(id);
      }
    };
    const request = async (pick: number): Promise<{ op: string; judged: Judged }> => {
      if (pick < 0.35) return { op: 'small GET', judged: await fetchAndJudge(`${base}/${OBJECTS.small}`, { body: expected.small }, { timeoutMs }) };
      if (pick < 0.45)
        return { op: 'HEAD', judged: await fetchAndJudge(`${base}/${OBJECTS.small}`, { body: expected.small }, { method: 'HEAD', timeoutMs }) };
      if (pick < 0.7) {
        const start = Math.floor(random() * 8 * MIB);
        const end = Math.min(8 * MIB - 1, start + Math.floor(random() * MIB));
        return {
          op: 'range GET',
          judged: await fetchAndJudge(
            `${base}/${OBJECTS.large}`,
            { status: 206, body: expected.large.subarray(start, end + 1) },
            { headers: { Range: `bytes=${start}-${end}` }, timeoutMs },
          ),
        };
      }
      if (pick < 0.8) return { op: '8 MiB GET', judged: await fetchAndJudge(`${base}/${OBJECTS.large}`, { body: expected.large }, { timeoutMs }) };
      if (pick < 0.9) return { op: '1 MiB GET', judged: await fetchAndJudge(`${base}/${OBJECTS.medium}`, { body: expected.medium }, { timeoutMs }) };
      if (pick < 0.95) return { op: 'miss (404)', judged: await fetchAndJudge(`${base}/soak/missing`, { status: 404 }, { timeoutMs }) };
      return { op: 'listing', judged: await fetchAndJudge(`${base}?prefix=soak/`, { status: 200 }, { timeoutMs }) };
    };
    try {
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (Date.now() - started < SOAK_SECONDS * 1000 && results.length < MAX_REQUESTS) results.push(await one());
        }),
      );
    } finally {
      clearInterval(rotator);
      clearInterval(sampler);
    }

    const verdicts = countVerdicts(results.map((r) => r.judged));
    const byOp: Record<string, Record<string, number>> = {};
    for (const r of results) {
      const kind = r.judged.verdict === '5xx' ? `${r.judged.status} ${r.judged.code}` : r.judged.verdict;
      byOp[r.op] = { ...byOp[r.op], [kind]: (byOp[r.op]?.[kind] ?? 0) + 1 };
    }
    const quarter = (q: number) => median(rss.slice(Math.floor((rss.length * q) / 4), Math.floor((rss.length * (q + 1)) / 4)).map((s) => s.mib));
    recordFigures(SOAK_SECONDS >= 120 ? 'soak-record' : 'soak', {
      seconds: SOAK_SECONDS,
      requests: results.length,
      verdicts,
      answersByOperation: byOp,
      faultsInjected,
      timedOut: results
        .filter((r) => r.judged.timedOut)
        .slice(0, 20)
        .map((r) => ({ op: r.op, fault: r.fault, verdict: r.judged.verdict, status: r.judged.status, bytes: r.judged.bytes })),
      rotations,
      bytesVerified: results.filter((r) => r.judged.verdict === 'ok').reduce((s, r) => s + r.judged.bytes, 0),
      rssMib: { medianByQuarter: [0, 1, 2, 3].map(quarter), max: Math.max(...rss.map((s) => s.mib)), samples: thin(rss, 40) },
    });

    expect(verdicts.wrong).toBe(0);
    expect(verdicts['no-answer']).toBe(0);
    expect(verdicts.ok).toBeGreaterThan(results.length / 2);
    if (SOAK_SECONDS >= 120) {
      // Long enough to see a leak: the last quarter's median RSS is within 25% (+16 MiB) of the second's.
      expect(quarter(3)).toBeLessThanOrEqual(quarter(1) * 1.25 + 16);
    }
  });
});

function rssMib(pid: number): number {
  try {
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Math.round((Number(kib) / 1024) * 10) / 10;
  } catch {
    return NaN; // the service is gone; the verdicts will say why
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
}

function thin<T>(items: T[], most: number): T[] {
  const step = Math.max(1, Math.ceil(items.length / most));
  return items.filter((_, i) => i % step === 0 || i === items.length - 1);
}
