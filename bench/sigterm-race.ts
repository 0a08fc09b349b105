import http from 'node:http';
import { startServiceStack } from '../test/faults/support/service-stack';
import { BUCKET } from '../test/support/stack';

/**
 * A reproduction, not a benchmark: requests that race SIGTERM. Ten rounds of:
 * 8 idle keep-alive connections and one 1 s stream in flight, SIGTERM, then 8
 * requests on the keep-alive agent. Prints how they ended; any ECONNRESET is a
 * request dropped without an answer (bench/ANALYSIS.md, bugs found).
 * Run: npm run build && node --import tsx bench/sigterm-race.ts
 */
async function round(results: Record<string, number>): Promise<void> {
  const stack = await startServiceStack({ LOG_LEVEL: 'info' });
  try {
    stack.oss.putObject(BUCKET, 'k', 'x');
    stack.oss.putGeneratedObject(BUCKET, 'slow', 2 * 1024 * 1024, 1);
    stack.oss.injectFault({ kind: 'bandwidth', bytesPerSecond: 2 * 1024 * 1024, match: { key: 'slow' } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const url = `${stack.service.baseUrl}/v1/objects/${BUCKET}/k`;
    const one = () =>
      new Promise<string>((resolve) => {
        const req = http.get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
          res.on('error', (e: NodeJS.ErrnoException) => resolve(`body ${e.code}`));
        });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    await Promise.all(Array.from({ length: 8 }, one));
    const slow = new Promise<void>((resolve) => {
      http.get(`${stack.service.baseUrl}/v1/objects/${BUCKET}/slow`, { agent: false }, (res) => {
        res.resume();
        res.on('close', () => resolve());
      });
    });
    const stopped = stack.service.stop('SIGTERM', 10_000);
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => new Promise<string>((r) => setTimeout(() => void one().then(r), i * 2))));
    for (const o of outcomes) results[o] = (results[o] ?? 0) + 1;
    await slow;
    await stopped;
    agent.destroy();
  } finally {
    await stack.close();
  }
}

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  for (let i = 0; i < 10; i += 1) await round(results);
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

void main().then(() => process.exit(0));
