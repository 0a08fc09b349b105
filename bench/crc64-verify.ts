/**
 * `npm run bench:crc64`: what the stream CRC-64 check costs, and what liblzma saves.
 *
 * 1. The checksum alone, in this process: liblzma's `lzma_crc64` through koffi
 *    (what the service runs), the TypeScript fallback (src/crc64.ts) and the npm
 *    package crc64-ecma182.js, on 256 MiB fed as 64 KiB chunks and as
 *    16 KiB - 1 chunks at odd offsets (socket chunks are views into a pool).
 * 2. One generated 1 GiB object through the built service (`node
 *    dist/src/server.js`, a child process) from the OSS emulator (this process)
 *    to curl: OSS_VERIFY_CRC64=false, true with liblzma, and true with the
 *    fallback (koffi blocked by test/support/without-koffi.cjs). Throughput and
 *    the service's CPU seconds per GiB (/proc).
 *
 * Every variant runs once per round, interleaved, ROUNDS rounds (default 3), so
 * drift on a shared machine hits them alike; min and median are printed, with
 * the load average before and after. CRC_BENCH_PART=streams runs part 2 only. Prints a Markdown section for
 * bench/RESULTS-crc64.md.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { crc64 as npmCrc64 } from 'crc64-ecma182.js';
import { Crc64 as TypeScriptCrc64 } from '../src/crc64';
import { crc64Choice } from '../src/crc64-choice';
import { loadLzmaCrc64, nativeCrc64Class } from '../src/crc64-native';
import { BUCKET, startEmulators } from './lib/emulators';
import { curl } from './lib/load';
import { cpuSeconds, SERVICE_ENTRY, startService, type Child } from './lib/processes';
import { GIB, MIB, summarize, type Summary } from './lib/stats';

const ROUNDS = Math.max(3, Number(process.env.ROUNDS ?? 3));
const HASH_MIB = 256;
const WITHOUT_KOFFI = resolve(__dirname, '..', 'test', 'support', 'without-koffi.cjs');

interface Hasher {
  update(buf: Uint8Array): unknown;
}

const NativeCrc64 = nativeCrc64Class(loadLzmaCrc64());
const HASHERS: Record<string, (chunks: Uint8Array[], block: Buffer) => void> = {
  'liblzma (koffi)': (chunks) => feed(new NativeCrc64(), chunks),
  'TypeScript fallback': (chunks) => feed(new TypeScriptCrc64(), chunks),
  // The package has no incremental API (and aborts over about 16 MiB): it gets the 8 MiB block whole.
  'crc64-ecma182.js': (_chunks, block) => void npmCrc64(block),
};

function feed(hasher: Hasher, chunks: Uint8Array[]): void {
  for (const chunk of chunks) hasher.update(chunk);
}

/** 8 MiB of random bytes cut into `size`-byte views starting `offset` bytes in. */
function chunksOf(block: Buffer, size: number, offset: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = offset; start + size <= block.length; start += size) chunks.push(block.subarray(start, start + size));
  return chunks;
}

interface HashFigures {
  mibPerSecond: Summary;
  cpuSecondsPerGib: Summary;
}

function benchChecksums(): Record<string, Record<string, HashFigures>> {
  const block = randomBytes(8 * MIB);
  const layouts: Record<string, Uint8Array[]> = {
    '64 KiB chunks': chunksOf(block, 64 * 1024, 0),
    '16 KiB - 1 chunks, odd offsets': chunksOf(block, 16 * 1024 - 1, 3),
  };
  const out: Record<string, Record<string, HashFigures>> = {};
  for (const [layout, chunks] of Object.entries(layouts)) {
    const bytesPerPass = chunks.reduce((sum, c) => sum + c.length, 0);
    const passes = Math.ceil((HASH_MIB * MIB) / bytesPerPass);
    const speed: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, hash] of Object.entries(HASHERS)) {
        const npm = name === 'crc64-ecma182.js';
        const n = npm ? Math.max(1, passes / 8) : passes; // the package is slow: an eighth of the bytes is enough
        const bytes = n * (npm ? 8 * MIB : bytesPerPass);
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        for (let i = 0; i < n; i++) hash(chunks, block);
        const seconds = (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpuBefore);
        (speed[name] ??= []).push(bytes / MIB / seconds);
        (cpu[name] ??= []).push((used.user + used.system) / 1e6 / (bytes / GIB));
      }
    }
    out[layout] = Object.fromEntries(
      Object.keys(HASHERS).map((name) => [name, { mibPerSecond: summarize(speed[name]), cpuSecondsPerGib: summarize(cpu[name]) }]),
    );
  }
  return out;
}

interface StreamFigures {
  mibPerSecond: Summary;
  serviceCpuSecondsPerGib: Summary;
}

async function benchStreams(): Promise<Record<string, StreamFigures>> {
  const emu = await startEmulators();
  const key = 'crc/1g.bin';
  emu.oss.putGeneratedObject(BUCKET, key, GIB, 42);
  const variants: Array<{ name: string; env: Record<string, string>; nodeArgs?: string[] }> = [
    { name: 'OSS_VERIFY_CRC64=false', env: { OSS_VERIFY_CRC64: 'false' } },
    { name: 'OSS_VERIFY_CRC64=true, liblzma', env: { OSS_VERIFY_CRC64: 'true' } },
    { name: 'OSS_VERIFY_CRC64=true, TypeScript fallback', env: { OSS_VERIFY_CRC64: 'true' }, nodeArgs: ['--require', WITHOUT_KOFFI] },
  ];
  const services: Child[] = [];
  try {
    for (const v of variants) services.push(await startService(emu.serviceEnv({ ...v.env, LOG_LEVEL: 'warn' }), { nodeArgs: v.nodeArgs }));
    const speed: number[][] = variants.map(() => []);
    const cpu: number[][] = variants.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, service] of services.entries()) {
        const before = cpuSeconds(service.pid);
        const r = await curl(`${service.url}/v1/objects/${BUCKET}/${key}`);
        if (r.status !== 200 || r.bytes !== GIB) throw new Error(`${variants[i].name}: ${r.status}, ${r.bytes} bytes`);
        speed[i].push(r.bytesPerSecond / MIB);
        cpu[i].push(cpuSeconds(service.pid) - before);
      }
    }
    return Object.fromEntries(variants.map((v, i) => [v.name, { mibPerSecond: summarize(speed[i]), serviceCpuSecondsPerGib: summarize(cpu[i]) }]));
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await emu.close();
  }
}

const f0 = (n: number) => n.toFixed(0);
const f2 = (n: number) => n.toFixed(2);
const minMed = (s: Summary, f: (n: number) => string) => `${f(s.min)} / ${f(s.median)}`;

async function main(): Promise<void> {
  if (crc64Choice.impl !== 'liblzma') throw new Error(`liblzma is not in use here: ${crc64Choice.fallbackReason}`);
  const loadBefore = os.loadavg();
  const hashes = process.env.CRC_BENCH_PART === 'streams' ? {} : benchChecksums();
  const streams = await benchStreams();
  const loadAfter = os.loadavg();

  const lines = [
    `## liblzma through koffi against the TypeScript CRC-64 (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `${ROUNDS} interleaved rounds; min / median of the rounds. Load average (1, 5, 15 min) ${loadBefore.map(f2).join(', ')} before,`,
    `${loadAfter.map(f2).join(', ')} after. Node ${process.version}, ${os.cpus().length} vCPU (${os.cpus()[0]?.model ?? 'unknown'}).`,
    '',
    '### The checksum alone (one thread, this process)',
    '',
    '| chunks | implementation | MiB/s (min / median) | CPU s per GiB (min / median) |',
    '| --- | --- | --- | --- |',
  ];
  for (const [layout, byImpl] of Object.entries(hashes)) {
    for (const [name, fig] of Object.entries(byImpl)) {
      lines.push(`| ${layout} | ${name} | ${minMed(fig.mibPerSecond, f0)} | ${minMed(fig.cpuSecondsPerGib, f2)} |`);
    }
  }
  for (const [layout, byImpl] of Object.entries(hashes)) {
    const native = byImpl['liblzma (koffi)'].mibPerSecond.runs;
    const ts = byImpl['TypeScript fallback'].mibPerSecond.runs;
    const ratios = summarize(native.map((n, i) => n / ts[i]));
    lines.push('', `${layout}: liblzma / TypeScript throughput, per round: min ${f2(ratios.min)}x, median ${f2(ratios.median)}x.`);
  }
  lines.push(
    '',
    '### 1 GiB through the built service (emulator and curl in other processes)',
    '',
    '| variant | MiB/s (min / median) | service CPU s per GiB (min / median) |',
    '| --- | --- | --- |',
  );
  for (const [name, fig] of Object.entries(streams)) {
    lines.push(`| ${name} | ${minMed(fig.mibPerSecond, f0)} | ${minMed(fig.serviceCpuSecondsPerGib, f2)} |`);
  }
  const off = streams['OSS_VERIFY_CRC64=false'].serviceCpuSecondsPerGib.runs;
  for (const name of ['OSS_VERIFY_CRC64=true, liblzma', 'OSS_VERIFY_CRC64=true, TypeScript fallback']) {
    const ratios = summarize(streams[name].serviceCpuSecondsPerGib.runs.map((c, i) => c / off[i]));
    lines.push('', `${name}: service CPU per GiB / CRC off, per round: min ${f2(ratios.min)}x, median ${f2(ratios.median)}x.`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (!existsSync(SERVICE_ENTRY)) throw new Error(`${SERVICE_ENTRY} is missing: run \`npm run build\` first`);
main().catch((err: unknown) => {
  process.stderr.write(`bench:crc64 failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
