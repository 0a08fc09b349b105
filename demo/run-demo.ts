/**
 * `npm run demo`: both emulators on loopback with sample objects, and the real
 * service (src/server.ts, in a child process, configured only by environment
 * variables) in front of them. Prints the curl commands to try and an
 * `oss-download` command line that works against it; the service's log lines
 * go to .demo/service.log, so the list stays readable. Ctrl-C stops everything.
 *
 * The service reads its credentials through CREDENTIALS_SOURCE=credentials_uri
 * from the metadata emulator: the ECS metadata address 100.100.100.200 exists
 * only on ECS (the tests reach it inside a private network namespace).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { systemClock } from '../src/clock';
import { createMetadataEmulator } from '../emulators/metadata/metadata-emulator';
import { createOssEmulator } from '../emulators/oss/oss-emulator';
import { StsRegistry } from '../emulators/sts-registry';

const ROLE = 'oss-download-demo-role';
const BUCKET = 'demo-bucket';
const GiB = 1024 ** 3;
const ROOT = path.resolve(__dirname, '..');
const LOG_FILE = path.join('.demo', 'service.log');

async function main(): Promise<void> {
  const sts = new StsRegistry(systemClock);
  const metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true });
  await metadata.listen();
  const oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
  await oss.listen();

  oss.createBucket(BUCKET);
  oss.allow(ROLE, BUCKET);
  oss.putObject(BUCKET, 'hello.txt', 'Hello from the OSS emulator.\n', { contentType: 'text/plain' });
  oss.putObject(BUCKET, 'reports/2026/日本語 レポート.txt', 'ユニコードのキーも読めます。\n', {
    contentType: 'text/plain; charset=utf-8',
  });
  oss.putObject(BUCKET, 'reports/2026/q1-summary.csv', 'quarter,downloads\nQ1,1024\n', { contentType: 'text/csv' });
  oss.putObject(BUCKET, 'reports/2025/annual report #7.txt', 'Keys with spaces, # and ? work in links too.\n', { contentType: 'text/plain' });
  oss.putGeneratedObject(BUCKET, 'large/1GiB.bin', GiB, 42, { contentType: 'application/octet-stream' });

  const port = process.env.PORT ?? '8080';
  const service = startService({
    PORT: port,
    HOST: '127.0.0.1',
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: oss.endpoint,
    OSS_ALLOW: BUCKET,
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
    // The demo runs open on loopback, deliberately (the service warns about it); see docs/security.md.
    AUTH_MODE: 'none',
    // info at least: the demo reads the port from the service's "listening" line.
    LOG_LEVEL: process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace' ? process.env.LOG_LEVEL : 'info',
  });
  // Before anything else is awaited: the service must never outlive the demo.
  const stop = async () => {
    service.kill('SIGTERM');
    await Promise.all([oss.close(), metadata.close()]);
    process.exit(0);
  };
  // Fire and forget: stop ends the process itself.
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  const portInUse = watchForPortInUse(service);
  const listening = await listeningPort(service).catch((err: Error) => {
    if (portInUse()) throw new Error(`port ${port} is in use: try PORT=0 npm run demo (any free port)`);
    throw err;
  });
  printTryIt(`http://127.0.0.1:${listening}`, {
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: oss.endpoint,
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: metadata.url('/v1/credentials'),
  });

  service.once('exit', (code) => {
    if (code !== 0) process.stderr.write(`demo: the service exited with code ${code}\n`);
    void Promise.all([oss.close(), metadata.close()]).then(() => process.exit(code ?? 1));
  });
}

function startService(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C reaches only the demo, which then sends the service one SIGTERM
    // (a terminal's SIGINT as well would count as a second signal and make it exit at once).
    detached: true,
  });
}

/** Its errors go on to the demo's stderr; tells whether one said the port is taken. */
function watchForPortInUse(service: ChildProcess): () => boolean {
  let inUse = false;
  readline.createInterface({ input: service.stderr! }).on('line', (line) => {
    process.stderr.write(`${line}\n`);
    if (line.includes('already in use')) inUse = true;
  });
  return () => inUse;
}

/** Write the service's JSON log lines to LOG_FILE and resolve with the port from its "listening" line. */
function listeningPort(service: ChildProcess): Promise<number> {
  mkdirSync(path.join(ROOT, '.demo'), { recursive: true });
  const log = createWriteStream(path.join(ROOT, LOG_FILE), { flags: 'w' });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: service.stdout! });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
      } catch {
        // not a log line
      }
    });
    // 'close', not 'exit': by then its stderr has been read, so watchForPortInUse has seen the reason.
    service.once('close', (code) => reject(new Error(`the service exited with code ${code} before listening`)));
  });
}

function printTryIt(base: string, cliEnv: Record<string, string>): void {
  const unicode = `reports/2026/${encodeURIComponent('日本語 レポート.txt')}`;
  const env = Object.entries(cliEnv).map(([name, value]) => `${name}=${value}`);
  process.stdout.write(
    [
      '',
      `oss-download-service demo: the service is at ${base}`,
      '',
      'In a browser:',
      `  ${base}/v1/objects/${BUCKET}?delimiter=/`,
      '',
      'Try:',
      `  curl -i ${base}/v1/objects/${BUCKET}/hello.txt`,
      `  curl -i -H 'Range: bytes=0-4' ${base}/v1/objects/${BUCKET}/hello.txt`,
      `  curl -I ${base}/v1/objects/${BUCKET}/hello.txt`,
      `  curl ${base}/v1/objects/${BUCKET}/${unicode}`,
      `  curl -OJ '${base}/v1/objects/${BUCKET}/${unicode}?download=1'`,
      `  curl -s ${base}/v1/objects/${BUCKET}/large/1GiB.bin -o /dev/null -w '%{size_download} bytes at %{speed_download} B/s\\n'`,
      `  curl -s '${base}/v1/objects/${BUCKET}?prefix=reports/&delimiter=/'`,
      `  curl -i ${base}/v1/objects/other-bucket/x      # 403 NotAllowed: outside OSS_ALLOW`,
      `  curl -s ${base}/readyz ; curl -s ${base}/metrics | head`,
      '',
      'The command line, straight from OSS (the emulator) with the same credential path:',
      `  ${env.join(' ')} \\`,
      `    npx tsx src/cli/oss-download.ts get oss://${BUCKET}/large/1GiB.bin .demo/1GiB.bin`,
      '',
      `The service logs to ${LOG_FILE}. Ctrl-C stops the demo.`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
