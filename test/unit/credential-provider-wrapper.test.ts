import { ManualClock } from '../support/manual-clock';
import { CredentialProviderWrapper, type CredentialSource, type StsCredentials } from '../../src/credentials/credential-provider-wrapper';
import { AppError } from '../../src/errors';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A source whose answers the test scripts: each fetch takes the next triple, or fails while `down`. */
class ScriptedSource implements CredentialSource {
  readonly name = 'scripted';
  fetches = 0;
  resets = 0;
  down = false;
  private serial = 0;
  private pending: Array<() => void> = [];
  holdAnswers = false;

  constructor(
    private readonly clock: ManualClock,
    public lifetimeMs = 6 * HOUR,
  ) {}

  async fetch(): Promise<StsCredentials> {
    this.fetches += 1;
    if (this.holdAnswers) await new Promise<void>((resolve) => this.pending.push(resolve));
    if (this.down) throw new Error('metadata service unreachable');
    this.serial += 1;
    return {
      accessKeyId: `AK${this.serial}`,
      accessKeySecret: `secret${this.serial}`,
      securityToken: `token${this.serial}`,
      expiresAt: this.clock.now() + this.lifetimeMs,
    };
  }

  release(): void {
    this.holdAnswers = false;
    for (const resolve of this.pending.splice(0)) resolve();
  }

  reset(): void {
    this.resets += 1;
  }
}

function setup(overrides: Partial<{ lifetimeMs: number }> = {}) {
  const clock = new ManualClock();
  const source = new ScriptedSource(clock, overrides.lifetimeMs);
  const provider = new CredentialProviderWrapper(source, {
    clock,
    expiryMarginMs: 5 * MINUTE,
    refreshAheadMs: 15 * MINUTE,
    retryIntervalMs: 10_000,
  });
  return { clock, source, provider };
}

/** Let background promise chains settle (no timers involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CredentialProviderWrapper', () => {
  it('hands out one whole triple from one source answer', async () => {
    const { provider } = setup();
    const creds = await provider.getCredentials();
    expect(creds).toMatchObject({ accessKeyId: 'AK1', accessKeySecret: 'secret1', securityToken: 'token1' });
  });

  it('makes one source request for 200 concurrent callers on a cold start', async () => {
    const { source, provider } = setup();
    source.holdAnswers = true;
    const all = Promise.all(Array.from({ length: 200 }, () => provider.getCredentials()));
    await settle();
    source.release();
    const results = await all;
    expect(source.fetches).toBe(1);
    expect(new Set(results.map((c) => c.accessKeyId))).toEqual(new Set(['AK1']));
  });

  it('serves from its cache without asking the source while the credential has life left', async () => {
    const { clock, source, provider } = setup();
    await provider.getCredentials();
    for (let i = 0; i < 1000; i += 1) {
      clock.advance(1000);
      await provider.getCredentials();
    }
    expect(source.fetches).toBe(1);
  });

  it('refreshes in the background inside the refresh-ahead window, at most once per retry interval', async () => {
    const { clock, source, provider } = setup({ lifetimeMs: 20 * MINUTE });
    await provider.getCredentials();
    clock.advance(6 * MINUTE); // 14 minutes left: inside the 15-minute window
    source.holdAnswers = true;
    const during = await Promise.all(Array.from({ length: 50 }, () => provider.getCredentials()));
    expect(during.every((c) => c.accessKeyId === 'AK1')).toBe(true); // nobody waits for the refresh
    expect(source.fetches).toBe(2);
    source.release();
    await settle();
    expect((await provider.getCredentials()).accessKeyId).toBe('AK2');
  });

  it('does not send one source request per call when the source keeps answering with the same credential', async () => {
    const { clock, source, provider } = setup({ lifetimeMs: 20 * MINUTE });
    await provider.getCredentials();
    clock.advance(6 * MINUTE);
    source.down = true; // refreshes fail, the cached credential is still valid
    for (let i = 0; i < 100; i += 1) {
      await provider.getCredentials();
      await settle();
      clock.advance(100); // 10 s in total: one retry interval
    }
    expect(source.fetches).toBeLessThanOrEqual(3);
  });

  it('keeps serving the cached credential while the source is down and it is still valid', async () => {
    const { clock, source, provider } = setup({ lifetimeMs: HOUR });
    await provider.getCredentials();
    source.down = true;
    clock.advance(50 * MINUTE); // 10 minutes left: inside refresh-ahead, outside the margin
    await expect(provider.getCredentials()).resolves.toMatchObject({ accessKeyId: 'AK1' });
    await settle();
    expect(provider.status().valid).toBe(true);
  });

  it('never hands out a credential inside the expiry margin, and fails fast with CredentialsUnavailable', async () => {
    const { clock, source, provider } = setup({ lifetimeMs: HOUR });
    await provider.getCredentials();
    source.down = true;
    clock.advance(56 * MINUTE); // 4 minutes left: inside the 5-minute margin
    await expect(provider.getCredentials()).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
    const fetchesAfterFirstFailure = source.fetches;
    // Within the retry interval the wrapper does not ask again: it fails at once.
    await expect(provider.getCredentials()).rejects.toBeInstanceOf(AppError);
    expect(source.fetches).toBe(fetchesAfterFirstFailure);
    expect(provider.status()).toMatchObject({ valid: false, source: 'scripted' });
    expect(provider.status().reason).toBe('metadata service unreachable');
  });

  it('recovers by itself when the source comes back', async () => {
    const { clock, source, provider } = setup();
    source.down = true;
    await expect(provider.getCredentials()).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
    source.down = false;
    clock.advance(10_000);
    await expect(provider.getCredentials()).resolves.toMatchObject({ accessKeyId: 'AK1' });
    expect(provider.status().valid).toBe(true);
  });

  it('refuses a credential the source hands back already expired (the library does this when IMDS is down)', async () => {
    const { source, provider } = setup({ lifetimeMs: -MINUTE });
    await expect(provider.getCredentials()).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
    expect(source.fetches).toBe(1);
    expect(source.resets).toBe(1); // the library's stale cache is dropped, so the next attempt asks again
    expect(provider.status().reason).toMatch(/expired/);
  });

  describe('refreshAfterRejection', () => {
    it('drops the source cache and returns a new triple', async () => {
      const { clock, source, provider } = setup();
      const first = await provider.getCredentials();
      clock.advance(10_000);
      const fresh = await provider.refreshAfterRejection(first);
      expect(source.resets).toBe(1);
      expect(fresh?.accessKeyId).toBe('AK2');
    });

    it('returns the already refreshed triple without asking again', async () => {
      const { clock, source, provider } = setup();
      const first = await provider.getCredentials();
      clock.advance(10_000);
      await provider.refreshAfterRejection(first);
      const again = await provider.refreshAfterRejection(first);
      expect(again?.accessKeyId).toBe('AK2');
      expect(source.fetches).toBe(2);
    });

    it('forces at most one refresh per rejected key, so a storm of rejections is one source request', async () => {
      const { source, provider } = setup();
      const first = await provider.getCredentials();
      const second = await provider.refreshAfterRejection(first);
      const retries = await Promise.all(Array.from({ length: 20 }, () => provider.refreshAfterRejection(second!)));
      expect(new Set(retries.map((c) => c?.accessKeyId))).toEqual(new Set(['AK3']));
      expect(source.fetches).toBe(3);
      // A late rejection of the same key gets the refreshed triple, without another fetch.
      expect((await provider.refreshAfterRejection(second!))?.accessKeyId).toBe('AK3');
      expect(source.fetches).toBe(3);
    });

    it('does not take the refused triple back when the source offers it again', async () => {
      const { clock, source, provider } = setup();
      const first = await provider.getCredentials();
      source.fetch = async () => ({ ...first }); // a source that has not rotated yet
      expect(await provider.refreshAfterRejection(first)).toBeNull();
      clock.advance(10_000);
      await expect(provider.getCredentials()).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
      expect(provider.status().reason).toMatch(/no credential newer than the one OSS refused/);
    });

    it('stops handing out a refused credential when the source has no newer one', async () => {
      const { source, provider } = setup();
      const first = await provider.getCredentials();
      source.down = true;
      expect(await provider.refreshAfterRejection(first)).toBeNull();
      expect(provider.status()).toMatchObject({ valid: false, reason: expect.stringMatching(/OSS refused/) });
      await expect(provider.getCredentials()).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
    });
  });
});
