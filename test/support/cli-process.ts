import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MetadataEmulator } from '../../emulators/metadata/metadata-emulator';
import type { OssEmulator } from '../../emulators/oss/oss-emulator';

/**
 * The built command line (`node dist/src/cli/oss-download.js`, what the `bin`
 * runs) as a real child process, configured by environment variables only.
 * Needs `npm run build` (npm test builds first).
 */
const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const CLI_ENTRY = resolve(PROJECT_ROOT, 'dist', 'src', 'cli', 'oss-download.js');

export interface CliRun {
  child: ChildProcess;
  /** Resolves when it exits, with what it wrote. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** The environment an operator would set: the emulators on loopback, never the ECS metadata address. */
export function cliEnv(emulators: { oss: OssEmulator; metadata: MetadataEmulator }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    OSS_REGION: emulators.oss.region,
    OSS_ENDPOINT: emulators.oss.endpoint,
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: emulators.metadata.url('/v1/credentials'),
  };
}

/** `nodeArgs` go before the script (the benchmark preloads an RSS reporter). */
export function runCli(args: string[], env: Record<string, string>, nodeArgs: string[] = []): CliRun {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [...nodeArgs, CLI_ENTRY, ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) => {
    child.once('exit', (code, signal) => {
      // 'exit' can come before the pipes are drained; 'close' follows once they are.
      child.once('close', () => done({ code, signal, stdout, stderr }));
    });
  });
  return { child, exited };
}
