import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BenchEmulators } from '../lib/emulators';
import { BUCKET } from '../lib/emulators';
import { autocannon } from '../lib/load';
import { PROJECT_ROOT, startService } from '../lib/processes';
import { type SmallFigures, compareSmall, SMALL_KEY } from './small-objects';

/**
 * 6. Where the CPU goes on the small-object path: the service under
 * autocannon with --cpu-prof, summarised by self time per function and per
 * area (package, Node internals, this project's files). With
 * BENCH_BEFORE_ENTRY (a server.js built before the optimisation) it also
 * measures that build against the current one, interleaved, for the ratio.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileFigures {
  samples: number;
  topFunctions: { fn: string; where: string; selfPercent: number }[];
  byArea: { area: string; selfPercent: number }[];
  beforeAfter?: Record<string, SmallFigures>;
}

export async function profileSmallObjects(emu: BenchEmulators, seconds: number, abRuns: number): Promise<ProfileFigures> {
  emu.oss.putGeneratedObject(BUCKET, SMALL_KEY, 4096, 9);
  const dir = join(PROJECT_ROOT, 'bench', '.out', 'cpu-prof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const service = await startService(emu.serviceEnv(), { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  const url = `${service.url}/v1/objects/${BUCKET}/${SMALL_KEY}`;
  await autocannon(url, 8, 1);
  await autocannon(url, 32, seconds);
  await service.stop(); // SIGTERM: the service exits 0 and Node writes the profile
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const figures = summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] });

  const before = process.env.BENCH_BEFORE_ENTRY;
  if (before) {
    const old = await startService(emu.serviceEnv(), { entry: before });
    const now = await startService(emu.serviceEnv());
    try {
      for (const s of [old, now]) await autocannon(`${s.url}/v1/objects/${BUCKET}/${SMALL_KEY}`, 8, 1);
      figures.beforeAfter = await compareSmall(
        [
          { name: 'before', url: `${old.url}/v1/objects/${BUCKET}/${SMALL_KEY}`, pid: old.pid, rounds: abRuns },
          { name: 'after', url: `${now.url}/v1/objects/${BUCKET}/${SMALL_KEY}`, pid: now.pid, rounds: abRuns },
        ],
        32,
        5,
      );
    } finally {
      await Promise.all([old.stop(), now.stop()]);
    }
  }
  return figures;
}

export function summarizeProfile(profile: { nodes: ProfileNode[] }): ProfileFigures {
  const byFunction = new Map<string, { fn: string; where: string; hits: number }>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shortPath(url)}:${lineNumber + 1}` : '(native)';
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { fn: functionName || '(anonymous)', where, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const pct = (h: number) => Math.round((h / total) * 1000) / 10;
  return {
    samples: total,
    topFunctions: [...byFunction.values()].sort((a, b) => b.hits - a.hits).slice(0, 15).map((e) => ({ fn: e.fn, where: e.where, selfPercent: pct(e.hits) })),
    byArea: [...byArea.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([area, hits]) => ({ area, selfPercent: pct(hits) })),
  };
}

function shortPath(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  return nm >= 0 ? path.slice(nm + 'node_modules/'.length) : path.startsWith('/') ? relative(PROJECT_ROOT, path) : path;
}

function areaOf(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'garbage collector' : fn === '(idle)' ? 'idle' : fn === '(program)' ? '(program)' : 'native';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  return `project: ${shortPath(url).split('/').slice(0, 3).join('/')}`;
}
