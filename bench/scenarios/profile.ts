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
  children?: number[];
}

export interface ProfileFigures {
  samples: number;
  topFunctions: { fn: string; where: string; selfPercent: number }[];
  byArea: { area: string; selfPercent: number }[];
  /** Self time charged to the layer that called it: Node internals under undici count as undici's (see layerOf). */
  byLayer: { layer: string; selfPercent: number; top: string[] }[];
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
  const byLayer = layerHits(profile.nodes);
  return {
    samples: total,
    byLayer: [...byLayer.entries()]
      .sort((a, b) => b[1].hits - a[1].hits)
      .map(([layer, { hits, functions }]) => ({
        layer,
        selfPercent: pct(hits),
        top: [...functions.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([fn, h]) => `${fn} ${pct(h)}`),
      })),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, 15)
      .map((e) => ({ fn: e.fn, where: e.where, selfPercent: pct(e.hits) })),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([area, hits]) => ({ area, selfPercent: pct(hits) })),
  };
}

/**
 * The layers of a proxied GET, by the code a frame belongs to. Node internals, natives and
 * anonymous frames have no layer of their own: their time goes to the nearest caller that has
 * one (an HTTP parser callback under undici is undici's; one under the server is Node's).
 */
const LAYERS: [RegExp, string][] = [
  [
    /node_modules\/(express|router|path-to-regexp|finalhandler|send|on-finished|on-headers|body-parser|parseurl|depd|accepts|type-is|content-type|vary|etag|fresh|range-parser|cookie|statuses|encodeurl|escape-html|merge-descriptors|mime-types|negotiator|proxy-addr|forwarded|ipaddr\.js)\//,
    'Express',
  ],
  [/node_modules\/helmet\//, 'helmet'],
  [
    /node_modules\/(pino|pino-std-serializers|sonic-boom|fast-redact|thread-stream|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)\/|src\/(logger|observability\/request-log)\./,
    'pino log line',
  ],
  [/node_modules\/(prom-client|tdigest|bintrees)\/|src\/(metrics|observability\/(request-metrics|credential-endpoint-requests))\./, 'metrics'],
  [/node_modules\/(ali-oss|dateformat|mime|copy-to|utility)\/|src\/oss\/(oss-request-signer|ali-oss-url-signer)\./, 'signing (ali-oss)'],
  [/node_modules\/undici\/|src\/oss\/oss-transport/, 'undici'],
  [/src\/(crc64|crc64-choice|crc64-native|http\/crc64-verifier)\.|node_modules\/koffi\//, 'CRC-64'],
  [/dist[^/]*\/(src|routes)\//, 'our code (routes, guards, stream, store)'],
];
const OUR_CODE = 'our code (routes, guards, stream, store)';

function layerHits(nodes: ProfileNode[]): Map<string, { hits: number; functions: Map<string, number> }> {
  const parent = new Map<number, ProfileNode>();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node);
  const own = (node: ProfileNode): string | undefined => {
    const { url, functionName } = node.callFrame;
    if (!url)
      return functionName === '(garbage collector)'
        ? 'garbage collector'
        : functionName === '(idle)'
          ? 'idle'
          : functionName === '(program)'
            ? '(program)'
            : undefined;
    return LAYERS.find(([pattern]) => pattern.test(url))?.[1];
  };
  const hits = new Map<string, { hits: number; functions: Map<string, number> }>();
  for (const node of nodes) {
    if (!node.hitCount) continue;
    let layer: string | undefined;
    for (let at: ProfileNode | undefined = node; at && layer === undefined; at = parent.get(at.id)) layer = own(at);
    // What our code asks of Node (writing the response: writeHead, write, the writev syscall) is not our JS.
    if (layer === OUR_CODE && own(node) === undefined) layer = 'Node, asked by our code (writing the response)';
    layer ??= 'Node (http server, streams, timers)';
    const entry = hits.get(layer) ?? { hits: 0, functions: new Map<string, number>() };
    const fn = node.callFrame.functionName || '(anonymous)';
    entry.hits += node.hitCount;
    entry.functions.set(fn, (entry.functions.get(fn) ?? 0) + node.hitCount);
    hits.set(layer, entry);
  }
  return hits;
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
