import { systemClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createAlibabaCredentialSource } from '../../src/credentials/alibaba-credential-source';
import { createCredentialProviderWrapper } from '../../src/credentials/create-credential-provider-wrapper';
import {
  CredentialProviderWrapper,
  type CredentialSource,
  type CredentialsProvider,
  type StsCredentials,
} from '../../src/credentials/credential-provider-wrapper';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { AliOssStore } from '../../src/oss/ali-oss-store';
import { BUCKET, startEmulators } from '../lib/emulators';
import { summarize, type Summary } from '../lib/stats';

/**
 * 5. The credential path, in process (the figures are counts, not times):
 * metadata requests per 10,000 OSS requests, cold and warm, with a credential
 * outside and inside the library's refresh window, through the wrapper and
 * through the library asked on every request (what the Python example's
 * pattern does); then the wrapper's own cost per request in microseconds.
 *
 * The bench runs CREDENTIALS_SOURCE=credentials_uri against the metadata
 * emulator (the ECS address exists only in the netns tier). That provider's
 * window is the library's 15-minute stale time; the ECS provider's is its
 * 60-minute prefetch, same logic.
 */

const MINUTE = 60_000;
const WINDOWS = {
  'outside the window (6 h left)': { credentialTtlMs: 360 * MINUTE, rotateBeforeMs: 60 * MINUTE },
  'inside the window (14 min left)': { credentialTtlMs: 14 * MINUTE, rotateBeforeMs: 1 * MINUTE },
};

export interface CredentialPathFigures {
  metadataRequestsPer10k: Record<string, Record<string, { cold: number; warm: number; measuredOn: number }>>;
  wrapperMicroseconds: { wrapper: Summary; plainAsync: Summary; overhead: Summary };
}

export async function credentialPath(requests: number, libraryRequests: number): Promise<CredentialPathFigures> {
  const counts: CredentialPathFigures['metadataRequestsPer10k'] = {};
  for (const [window, rotation] of Object.entries(WINDOWS)) {
    const emu = await startEmulators(rotation);
    emu.oss.putObject(BUCKET, 'cred/k.txt', 'x');
    try {
      const config = loadConfig(emu.serviceEnv({ LOG_LEVEL: 'silent' }));
      const wrapper = () =>
        createCredentialProviderWrapper(config.credentials, { clock: systemClock, logger: createLogger('silent'), metrics: new Metrics() });
      const library = () => everyRequest(createAlibabaCredentialSource(config.credentials));
      counts[window] = {
        'wrapper (this service)': await coldAndWarm(wrapper(), requests),
        'library asked on every request': await coldAndWarm(library(), libraryRequests),
      };
      async function coldAndWarm(provider: CredentialsProvider, n: number) {
        const store = new AliOssStore({ ...config.oss, credentials: provider });
        const per10k = async () => {
          emu.metadata.resetCounters();
          await drive(n, 32, () => store.headObject({ bucket: BUCKET, key: 'cred/k.txt', preconditions: {} }));
          return (emu.metadata.calls.uri * 10_000) / n;
        };
        const figures = { cold: await per10k(), warm: await per10k(), measuredOn: n };
        await store.close();
        return figures;
      }
    } finally {
      await emu.close();
    }
  }
  return { metadataRequestsPer10k: counts, wrapperMicroseconds: await wrapperCost() };
}

/** The Python example's pattern, literally: ask the library on every request. */
function everyRequest(source: CredentialSource): CredentialsProvider {
  return {
    getCredentials: () => source.fetch(),
    refreshAfterRejection: async () => null,
    status: () => ({ source: source.name, valid: true, expiresAt: null }),
  };
}

async function drive(total: number, concurrency: number, request: () => Promise<{ status: number }>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next += 1;
      const r = await request();
      if (r.status !== 200) throw new Error(`OSS answered ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The wrapper's getCredentials() on a warm cache vs. awaiting a plain async function: the difference is what it adds per OSS request. */
async function wrapperCost(): Promise<CredentialPathFigures['wrapperMicroseconds']> {
  const triple: StsCredentials = { accessKeyId: 'STS.bench', accessKeySecret: 's', securityToken: 't', expiresAt: Date.now() + 6 * 60 * MINUTE };
  const source: CredentialSource = { name: 'bench', fetch: async () => triple, reset: () => undefined };
  const wrapper = new CredentialProviderWrapper(source, {
    clock: systemClock,
    expiryMarginMs: 5 * MINUTE,
    refreshAheadMs: 15 * MINUTE,
    retryIntervalMs: 5000,
  });
  const plain = async () => triple;
  const iterations = 1_000_000;
  const time = async (f: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) await f();
    return Number(process.hrtime.bigint() - start) / 1000 / iterations;
  };
  const w: number[] = [];
  const p: number[] = [];
  await time(() => wrapper.getCredentials()); // warm-up: JIT and the first fetch
  for (let round = 0; round < 5; round += 1) {
    w.push(await time(() => wrapper.getCredentials()));
    p.push(await time(plain));
  }
  return { wrapper: summarize(w), plainAsync: summarize(p), overhead: summarize(w.map((x, i) => x - p[i])) };
}
