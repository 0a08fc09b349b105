import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatTokenLine } from '../../../src/auth/token-file';
import { generateToken, hashToken } from '../../../src/auth/tokens';
import { BUCKET, startEmulators, ROLE, type Emulators } from '../../support/stack';
import { startService, type ServiceProcess } from '../../support/service-process';

/**
 * The built service (`node dist/src/server.js`) as an operator runs it, with
 * caller authentication from a tokens file, in front of both emulators on
 * loopback. Everything it may write lives in a sandbox folder: DOWNLOAD_ROOT
 * and the tokens file are inside it, so "nothing written outside" is a
 * listing of the sandbox.
 */
export const PUBLIC_BUCKET = 'public-bucket';

/** The callers every secure service knows, by name: their scopes as written in the tokens file. */
export const CALLERS = {
  reader: [`read=${BUCKET}`, `read=${PUBLIC_BUCKET}/pub/`],
  'pub-reader': [`read=${PUBLIC_BUCKET}/pub/`],
  prometheus: ['metrics'],
  downloader: [`read=${BUCKET}`, 'downloads'],
  'downloader-b': [`read=${BUCKET}`, 'downloads'],
  'downloader-c': [`read=${BUCKET}`, 'downloads'],
  'models-writer': [`read=${BUCKET}`, 'downloads=models/', 'downloads=cache/m-'],
} as const;
export type CallerName = keyof typeof CALLERS;

export interface SecureService extends Emulators {
  service: ServiceProcess;
  sandbox: string;
  downloadRoot: string;
  tokensFile: string;
  /** The raw token of each caller (only the test knows them; the file holds hashes). */
  tokens: Record<CallerName, string>;
  /** Rewrites the tokens file atomically (write, then rename) with these callers only. */
  writeTokens(names: readonly CallerName[]): Promise<void>;
  /** Every file and folder under the sandbox, relative, sorted. */
  sandboxListing(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startSecureService(env: Record<string, string> = {}): Promise<SecureService> {
  const emulators = await startEmulators();
  emulators.oss.createBucket(PUBLIC_BUCKET);
  emulators.oss.allow(ROLE, PUBLIC_BUCKET);
  const sandbox = await mkdtemp(path.join(tmpdir(), 'oss-download-security-'));
  const downloadRoot = path.join(sandbox, 'downloads');
  const tokensFile = path.join(sandbox, 'tokens');
  const tokens = Object.fromEntries(Object.keys(CALLERS).map((name) => [name, generateToken()])) as Record<CallerName, string>;
  const writeTokens = async (names: readonly CallerName[]) => {
    const lines = names.map((name) => formatTokenLine(name, hashToken(tokens[name]), CALLERS[name]));
    await writeFile(`${tokensFile}.next`, `# written by the security tests\n${lines.join('\n')}\n`);
    await rename(`${tokensFile}.next`, tokensFile);
  };
  await writeTokens(Object.keys(CALLERS) as CallerName[]);

  const service = await startService({
    PATH: process.env.PATH ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: emulators.oss.endpoint,
    OSS_ALLOW: `${BUCKET},${PUBLIC_BUCKET}`,
    CREDENTIALS_SOURCE: 'credentials_uri',
    ALIBABA_CLOUD_CREDENTIALS_URI: emulators.metadata.url('/v1/credentials'),
    AUTH_TOKENS_FILE: tokensFile,
    DOWNLOAD_ROOT: downloadRoot,
    LOG_LEVEL: 'trace',
    ...env,
  });
  return {
    ...emulators,
    service,
    sandbox,
    downloadRoot,
    tokensFile,
    tokens,
    writeTokens,
    sandboxListing: () => listTree(sandbox),
    async close() {
      await service.stop('SIGTERM').catch(() => service.kill());
      await Promise.all([emulators.oss.close(), emulators.metadata.close()]);
      await rm(sandbox, { recursive: true, force: true });
    },
  };
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map(String).sort();
}
