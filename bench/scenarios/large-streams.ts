import type { BenchEmulators } from '../lib/emulators';
import { BUCKET } from '../lib/emulators';
import { curl, curlMany } from '../lib/load';
import { cpuSeconds, memory, startBaseline, startService, type Child } from '../lib/processes';
import { GIB, MIB, summarize, type Summary } from '../lib/stats';

/**
 * 1. One 1 GiB stream: direct from the emulator, through the baseline proxy,
 *    through the service with its stream CRC64 check off and on (OSS_VERIFY_CRC64).
 * 2. 64 concurrent 64 MiB streams: aggregate throughput and the service's peak RSS.
 */

export interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  pid?: number;
}

export interface StreamFigures {
  mibPerSecond: Summary;
  cpuSecondsPerGib?: Summary;
}

const ONE_GIB_KEY = 'large/1g.bin';
const SIXTY_FOUR_MIB_KEY = 'large/64m.bin';

/** The service with its stream CRC64 check off, then on (the default, and the variant the other scenarios run). */
export function crcVariants(): { name: string; env: Record<string, string> }[] {
  return [
    { name: 'service, CRC off', env: { OSS_VERIFY_CRC64: 'false' } },
    { name: 'service, CRC on', env: { OSS_VERIFY_CRC64: 'true' } },
  ];
}

export async function singleStream(
  emu: BenchEmulators,
  runs: number,
): Promise<{ figures: Record<string, StreamFigures>; servicePeakRssMib: Record<string, number> }> {
  emu.oss.putGeneratedObject(BUCKET, ONE_GIB_KEY, GIB, 7);
  const baseline = await startBaseline(emu.oss.endpoint);
  const services = await Promise.all(crcVariants().map(async (v) => ({ name: v.name, child: await startService(emu.serviceEnv(v.env)) })));
  try {
    const targets: Target[] = [
      { name: 'direct (emulator)', url: `${emu.oss.endpoint}/${ONE_GIB_KEY}`, headers: { Host: emu.host } },
      { name: 'baseline proxy', url: objectUrl(baseline, ONE_GIB_KEY), pid: baseline.pid },
      ...services.map((s) => ({ name: s.name, url: objectUrl(s.child, ONE_GIB_KEY), pid: s.child.pid })),
    ];
    const figures = await measureRounds(targets, runs, async (t) => {
      const r = await curl(t.url, t.headers);
      if (r.status !== 200 || r.bytes !== GIB) throw new Error(`${t.name}: ${r.status}, ${r.bytes} bytes`);
      return { bytes: r.bytes, mibPerSecond: r.bytesPerSecond / MIB };
    });
    return { figures, servicePeakRssMib: Object.fromEntries(services.map((s) => [s.name, memory(s.child.pid).peak / MIB])) };
  } finally {
    await Promise.all([baseline.stop(), ...services.map((s) => s.child.stop())]);
  }
}

export async function concurrentStreams(
  emu: BenchEmulators,
  runs: number,
  streams: number,
): Promise<{ figures: Record<string, StreamFigures>; servicePeakRssMib: number; incompleteStreams: Record<string, number> }> {
  emu.oss.putGeneratedObject(BUCKET, SIXTY_FOUR_MIB_KEY, 64 * MIB, 8);
  const baseline = await startBaseline(emu.oss.endpoint);
  const service = await startService(emu.serviceEnv(crcVariants().at(-1)!.env));
  try {
    const targets: Target[] = [
      { name: 'baseline proxy', url: objectUrl(baseline, SIXTY_FOUR_MIB_KEY), pid: baseline.pid },
      { name: 'service', url: objectUrl(service, SIXTY_FOUR_MIB_KEY), pid: service.pid },
    ];
    const incomplete: Record<string, number> = {};
    const figures = await measureRounds(targets, runs, async (t) => {
      const r = await curlMany(streams, t.url, t.headers);
      // On a loaded 2-core machine a stream can fail (curl's own timeout); counted, not fatal.
      incomplete[t.name] = (incomplete[t.name] ?? 0) + r.statuses.filter((s, i) => s !== 200 || r.sizes[i] !== 64 * MIB).length;
      return { bytes: r.bytes, mibPerSecond: r.bytes / MIB / r.seconds };
    });
    return { figures, servicePeakRssMib: memory(service.pid).peak / MIB, incompleteStreams: incomplete };
  } finally {
    await Promise.all([baseline.stop(), service.stop()]);
  }
}

/** Runs every target once per round, interleaved, so drift on a shared machine hits them alike. */
async function measureRounds(
  targets: Target[],
  runs: number,
  once: (t: Target) => Promise<{ bytes: number; mibPerSecond: number }>,
): Promise<Record<string, StreamFigures>> {
  const speed: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < runs; round += 1) {
    for (const t of targets) {
      const before = t.pid ? cpuSeconds(t.pid) : 0;
      const r = await once(t);
      (speed[t.name] ??= []).push(r.mibPerSecond);
      if (t.pid) (cpu[t.name] ??= []).push((cpuSeconds(t.pid) - before) / (r.bytes / GIB));
    }
  }
  return Object.fromEntries(
    targets.map((t) => [t.name, { mibPerSecond: summarize(speed[t.name]), cpuSecondsPerGib: cpu[t.name] && summarize(cpu[t.name]) }]),
  );
}

export function objectUrl(child: Child, key: string): string {
  return `${child.url}/v1/objects/${BUCKET}/${key}`;
}
