import os from 'node:os';
import type { BenchEmulators } from '../lib/emulators';
import { BUCKET } from '../lib/emulators';
import { autocannon, type AutocannonResult } from '../lib/load';
import { cpuSeconds, startBaseline, startService, type Child } from '../lib/processes';
import { summarize, type Summary } from '../lib/stats';
import { objectUrl } from './large-streams';

/**
 * 3. 4 KiB objects at 32 and 128 connections: requests per second and p50/p99 latency vs the baseline proxy;
 *    and the same GET with `?redirect=true` (redirect mode: a 307 to a presigned URL, no body, no OSS request).
 *    With BENCH_BEFORE_ENTRY, an older build's service is measured beside it, in the same interleaved rounds.
 */

export const SMALL_KEY = 'small/4k.bin';

export interface SmallFigures {
  requestsPerSecond: Summary;
  p50Ms: Summary;
  p99Ms: Summary;
  /** Service CPU per 10,000 requests (the robust figure on a shared 2-core machine). */
  cpuSecondsPer10k?: Summary;
  failures: number;
}

export async function smallObjects(
  emu: BenchEmulators,
  runs: number,
  seconds: number,
  connectionCounts: number[],
): Promise<Record<string, Record<string, SmallFigures>>> {
  emu.oss.putGeneratedObject(BUCKET, SMALL_KEY, 4096, 9);
  const baseline = await startBaseline(emu.oss.endpoint);
  const service = await startService(emu.serviceEnv());
  // BENCH_BEFORE_ENTRY: an older build's server.js, measured in the same rounds for before/after ratios.
  const beforeEntry = process.env.BENCH_BEFORE_ENTRY;
  const before = beforeEntry ? await startService(emu.serviceEnv(), { entry: beforeEntry }) : undefined;
  try {
    const targets: SmallTarget[] = [
      { name: 'direct (emulator)', url: `${emu.oss.endpoint}/${SMALL_KEY}`, headers: { Host: emu.host }, rounds: 1 },
      { name: 'baseline proxy', url: objectUrl(baseline, SMALL_KEY), pid: baseline.pid, rounds: runs },
      { name: 'service', url: objectUrl(service, SMALL_KEY), pid: service.pid, rounds: runs },
      { name: 'service, redirect (307)', url: `${objectUrl(service, SMALL_KEY)}?redirect=true`, pid: service.pid, rounds: runs, expect: 'redirect' },
    ];
    if (before) {
      targets.push(
        { name: 'service (before)', url: objectUrl(before, SMALL_KEY), pid: before.pid, rounds: runs },
        {
          name: 'service (before), redirect (307)',
          url: `${objectUrl(before, SMALL_KEY)}?redirect=true`,
          pid: before.pid,
          rounds: runs,
          expect: 'redirect',
        },
      );
    }
    for (const t of targets.filter((x) => x.pid !== undefined && x.pid !== baseline.pid)) await autocannon(t.url, 8, 1); // warm the services (JIT, credential cache, sockets)
    const out: Record<string, Record<string, SmallFigures>> = {};
    for (const connections of connectionCounts) {
      out[`${connections} connections`] = await compareSmall(targets, connections, seconds);
    }
    return out;
  } finally {
    await Promise.all([baseline.stop(), service.stop(), before?.stop()]);
  }
}

export interface SmallTarget {
  name: string;
  url: string;
  headers?: Record<string, string>;
  pid?: number;
  rounds: number;
  /** What every answer must be: a 2xx (default), or a 3xx for redirect mode. */
  expect?: 'ok' | 'redirect';
}

/** Interleaved rounds of autocannon against each target. */
export async function compareSmall(targets: SmallTarget[], connections: number, seconds: number): Promise<Record<string, SmallFigures>> {
  const results: Record<string, { r: AutocannonResult; cpu?: number; redirect: boolean }[]> = {};
  const rounds = Math.max(...targets.map((t) => t.rounds));
  for (let round = 0; round < rounds; round += 1) {
    for (const t of targets.filter((x) => x.rounds > round)) {
      const before = t.pid ? cpuSeconds(t.pid) : 0;
      const r = await autocannon(t.url, connections, seconds, t.headers);
      (results[t.name] ??= []).push({
        r,
        cpu: t.pid ? ((cpuSeconds(t.pid) - before) / r.total) * 10_000 : undefined,
        redirect: t.expect === 'redirect',
      });
    }
    process.stderr.write(
      `bench: ${connections} connections, round ${round + 1}/${rounds}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')}\n`,
    );
  }
  return Object.fromEntries(
    Object.entries(results).map(([name, rs]) => [
      name,
      {
        requestsPerSecond: summarize(rs.map((x) => x.r.requestsPerSecond)),
        p50Ms: summarize(rs.map((x) => x.r.p50)),
        p99Ms: summarize(rs.map((x) => x.r.p99)),
        cpuSecondsPer10k: rs[0].cpu === undefined ? undefined : summarize(rs.map((x) => x.cpu!)),
        failures: rs.reduce((sum, x) => sum + (x.redirect ? x.r.total - x.r.redirects : x.r.non2xx) + x.r.errors, 0),
      },
    ]),
  );
}

export type { Child };
