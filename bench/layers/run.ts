import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { autocannon } from '../lib/load';
import { cpuSeconds, PROJECT_ROOT, startService, type Child } from '../lib/processes';
import { summarize, type Summary } from '../lib/stats';
import { summarizeProfile } from '../scenarios/profile';

/**
 * `npm run bench:layers`: what each layer of a small GET costs on its own,
 * CPU per request of the server process under autocannon (bench/layers/layer-server.ts),
 * interleaved rounds, no OSS client and no emulator in the way:
 *
 *   node          Node http writing the 4 KiB body (the floor)
 *   express       + Express 5, helmet, one route, pipeline
 *   app           createApp from dist/: every middleware the service runs
 *   app (before)  the same from LAYERS_BEFORE_DIST, a copy of an older build
 *   store         Node http in front of the OSS store from dist/ (signing and the OSS client)
 *                 asking a bare upstream (its own process, not measured) for the 4 KiB
 *   store (before) the same from LAYERS_BEFORE_DIST
 *
 * "app − express" is the service's own per-request overhead (issue 11, item 1);
 * "store − node" is what signing and the OSS client add per request (item 2).
 * LAYERS_NO_LOG=1 adds the app with its request log silent (the log line's own cost).
 * LAYERS_PROFILE=1 adds a --cpu-prof run of each app build, summarised by self time.
 * LAYERS_ROUNDS (5), LAYERS_SECONDS (4), LAYERS_CONNECTIONS (32).
 */

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = num('LAYERS_ROUNDS', 5);
const SECONDS = num('LAYERS_SECONDS', 4);
const CONNECTIONS = num('LAYERS_CONNECTIONS', 32);
const ENTRY = resolve(__dirname, 'layer-server.ts');
const PATH = '/v1/objects/bench-bucket/small/4k.bin';

interface Layer {
  name: string;
  env: Record<string, string>;
}

function layers(upstream: string): Layer[] {
  const list: Layer[] = [
    { name: 'node', env: { LAYER: 'node' } },
    { name: 'express', env: { LAYER: 'express' } },
    { name: 'app', env: { LAYER: 'app', LAYER_DIST: join(PROJECT_ROOT, 'dist') } },
    { name: 'store', env: { LAYER: 'store', LAYER_DIST: join(PROJECT_ROOT, 'dist'), LAYER_UPSTREAM: upstream } },
  ];
  const before = process.env.LAYERS_BEFORE_DIST;
  if (before) list.push({ name: 'app (before)', env: { LAYER: 'app', LAYER_DIST: resolve(before) } });
  if (before) list.push({ name: 'store (before)', env: { LAYER: 'store', LAYER_DIST: resolve(before), LAYER_UPSTREAM: upstream } });
  if (process.env.LAYERS_NO_LOG)
    list.push({ name: 'app, log silent', env: { LAYER: 'app', LAYER_DIST: join(PROJECT_ROOT, 'dist'), LAYER_LOG_LEVEL: 'silent' } });
  return list;
}

const start = (layer: Layer, nodeArgs: string[] = []) => startService(layer.env, { entry: ENTRY, nodeArgs: ['--import', 'tsx', ...nodeArgs] });

async function measure(list: Layer[]): Promise<Record<string, { cpuMsPerRequest: Summary; requestsPerSecond: Summary; p99Ms: Summary }>> {
  const servers: Child[] = [];
  try {
    for (const layer of list) servers.push(await start(layer));
    for (const s of servers) await autocannon(s.url + PATH, 8, 2); // JIT warm-up
    const rows = list.map(() => ({ cpu: [] as number[], rps: [] as number[], p99: [] as number[] }));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [i, s] of servers.entries()) {
        const before = cpuSeconds(s.pid);
        const r = await autocannon(s.url + PATH, CONNECTIONS, SECONDS);
        if (r.non2xx + r.errors > 0) throw new Error(`${list[i].name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        rows[i].cpu.push(((cpuSeconds(s.pid) - before) / r.total) * 1000);
        rows[i].rps.push(r.requestsPerSecond);
        rows[i].p99.push(r.p99);
      }
      process.stderr.write(`layers: round ${round + 1}/${ROUNDS}, load ${os.loadavg()[0].toFixed(2)}\n`);
    }
    return Object.fromEntries(
      list.map((l, i) => [
        l.name,
        { cpuMsPerRequest: summarize(rows[i].cpu), requestsPerSecond: summarize(rows[i].rps), p99Ms: summarize(rows[i].p99) },
      ]),
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function profile(layer: Layer): Promise<ReturnType<typeof summarizeProfile>> {
  const dir = join(PROJECT_ROOT, 'bench', '.out', 'layers-prof', layer.name.replace(/\W+/g, '-'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const s = await start(layer, ['--cpu-prof', '--cpu-prof-dir', dir]);
  await autocannon(s.url + PATH, 8, 2);
  await autocannon(s.url + PATH, CONNECTIONS, SECONDS * 2);
  await s.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile for ${layer.name}`);
  return summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')));
}

async function main(): Promise<void> {
  const load = os.loadavg();
  const upstream = await start({ name: 'upstream', env: { LAYER: 'upstream' } });
  try {
    await report(load, layers(upstream.url));
  } finally {
    await upstream.stop();
  }
}

async function report(load: number[], list: Layer[]): Promise<void> {
  const figures = await measure(list);
  const ms = (s: Summary) => `${s.median.toFixed(3)} (min ${s.min.toFixed(3)}, max ${s.max.toFixed(3)})`;
  const out: string[] = [
    `load average at start ${load.map((l) => l.toFixed(2)).join(' / ')}, at end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}; ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections`,
    '',
  ];
  out.push('| layer | CPU ms per request, median (min, max) | req/s median | p99 ms median |', '| --- | --- | --- | --- |');
  for (const [name, f] of Object.entries(figures))
    out.push(`| ${name} | ${ms(f.cpuMsPerRequest)} | ${Math.round(f.requestsPerSecond.median)} | ${f.p99Ms.median} |`);
  const express = figures.express.cpuMsPerRequest;
  for (const name of ['app', 'app (before)', 'app, log silent']) {
    const app = figures[name]?.cpuMsPerRequest;
    if (app)
      out.push(
        '',
        `${name} − express: median ${(app.median - express.median).toFixed(3)} ms, min ${(app.min - express.min).toFixed(3)} ms per request`,
      );
  }
  const node = figures.node.cpuMsPerRequest;
  for (const name of ['store', 'store (before)']) {
    const store = figures[name]?.cpuMsPerRequest;
    if (store)
      out.push('', `${name} − node: median ${(store.median - node.median).toFixed(3)} ms, min ${(store.min - node.min).toFixed(3)} ms per request`);
  }
  if (process.env.LAYERS_PROFILE) {
    for (const layer of list.filter((l) => l.env.LAYER === 'app' || l.env.LAYER === 'store')) {
      const p = await profile(layer);
      out.push('', `### ${layer.name}: ${p.samples} samples, self time`, '', '| function | where | self % |', '| --- | --- | --- |');
      for (const f of p.topFunctions) out.push(`| ${f.fn} | ${f.where} | ${f.selfPercent} |`);
      out.push('', '| area | self % |', '| --- | --- |');
      for (const a of p.byArea) out.push(`| ${a.area} | ${a.selfPercent} |`);
      out.push('', '| layer | self % | largest |', '| --- | --- | --- |');
      for (const l of p.byLayer) out.push(`| ${l.layer} | ${l.selfPercent} | ${l.top.join(', ')} |`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`layers failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
