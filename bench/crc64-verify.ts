/**
 * The cost of OSS_VERIFY_CRC64: one generated 1 GiB object streamed through the whole stack
 * (OSS emulator -> ali-oss -> the service -> an HTTP client on loopback), with the check on
 * and off, alternating, best of RUNS each. Prints MiB/s and the ratio; `npm run bench:crc64`.
 * All three processes' work shares this machine's cores, so the absolute figure is a floor;
 * the ratio is the point.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { BUCKET, startStack, type Stack } from '../test/support/stack';

const SIZE = 1024 ** 3;
const RUNS = Number(process.env.RUNS ?? 2);

function drain(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function timed(stack: Stack): Promise<number> {
  const started = performance.now();
  const bytes = await drain(`${stack.baseUrl}/v1/objects/${BUCKET}/1GiB.bin`);
  if (bytes !== SIZE) throw new Error(`short body: ${bytes}`);
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const on = await startStack({ verifyCrc64: true });
  const off = await startStack({ verifyCrc64: false });
  for (const stack of [on, off]) stack.oss.putGeneratedObject(BUCKET, '1GiB.bin', SIZE, 42);
  const best = { on: Infinity, off: Infinity };
  for (let run = 0; run < RUNS; run++) {
    best.off = Math.min(best.off, await timed(off));
    best.on = Math.min(best.on, await timed(on));
  }
  await on.close();
  await off.close();
  const mibps = (seconds: number) => (SIZE / 1024 ** 2 / seconds).toFixed(0);
  process.stdout.write(
    [
      `1 GiB through the stack, best of ${RUNS} (node ${process.version}):`,
      `  OSS_VERIFY_CRC64=false  ${best.off.toFixed(2)} s  ${mibps(best.off)} MiB/s`,
      `  OSS_VERIFY_CRC64=true   ${best.on.toFixed(2)} s  ${mibps(best.on)} MiB/s`,
      `  ratio on/off (time)     ${(best.on / best.off).toFixed(2)}`,
      '',
    ].join('\n'),
  );
}

void main();
