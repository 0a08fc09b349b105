import { cidrMatcher, parseCidrs } from '../../src/http/cidr-allowlist';
import { DEFAULT_HTTP_LIMITS } from '../../src/http/limits';
import { forwardedRange } from '../../src/http/range';
import { downloadPath } from '../../src/downloads/download-path';
import { parseTrustProxy } from '../../src/http/trust-proxy';
import { ConfigError, loadConfig } from '../../src/config';

describe('ALLOW_CIDRS', () => {
  it('matches IPv4, IPv6 and IPv4-mapped IPv6 peers', () => {
    const parsed = parseCidrs('10.0.0.0/8, 192.168.1.7, fd00::/8');
    expect(parsed).toEqual({ ok: true, value: ['10.0.0.0/8', '192.168.1.7/32', 'fd00::/8'] });
    const allowed = cidrMatcher(parsed.ok ? parsed.value : []);
    expect(['10.1.2.3', '::ffff:10.1.2.3', '192.168.1.7', 'fd12::1'].map(allowed)).toEqual([true, true, true, true]);
    expect(['11.0.0.1', '192.168.1.8', 'fe80::1', '::1', undefined, 'garbage'].map(allowed)).toEqual([false, false, false, false, false, false]);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'host.example', '10.0.0.0/8/1', '', '10.0.0.0/'])('refuses %j', (raw) => {
    expect(parseCidrs(raw).ok).toBe(false);
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['1', 1],
    ['loopback, 10.0.0.0/8', ['loopback', '10.0.0.0/8']],
  ])('reads %j', (raw, value) => {
    expect(parseTrustProxy(raw)).toEqual({ ok: true, value });
  });

  it.each(['true', 'everyone', 'loopback,,x'])('refuses %j', (raw) => {
    expect(parseTrustProxy(raw).ok).toBe(false);
  });
});

describe('forwardedRange', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-9', 'bytes=0-9'],
    ['BYTES=0-9', 'bytes=0-9'],
    ['items=0-9', undefined],
    ['bytes=0-1,3-4', undefined],
  ])('forwards %j as %j', (header, forwarded) => {
    expect(forwardedRange(header)).toBe(forwarded);
  });

  it.each(['bytes=9-3', 'bytes=abc', 'bytes=', `bytes=${'0-0,'.repeat(60)}0-0`, 'bytes=99999999999999999999-'])('answers 416 for %j', (header) => {
    expect(() => forwardedRange(header)).toThrow(expect.objectContaining({ code: 'InvalidRange', status: 416 }));
  });
});

describe('downloadPath', () => {
  it.each(['a', 'a/b.bin', 'dir/.hidden', 'a..b/c'])('accepts %j', (p) => {
    expect(downloadPath.safeParse(p).success).toBe(true);
  });

  it.each(['', '/etc/passwd', '../x', 'a/../b', 'a/./b', 'a//b', 'a/', 'a\\b', 'a\u0000b', 'C:/x', 'p'.repeat(1025)])('refuses %j', (p) => {
    expect(downloadPath.safeParse(p).success).toBe(false);
  });
});

describe('security configuration', () => {
  const minimal = { OSS_REGION: 'cn-beijing', OSS_ALLOW: 'my-bucket' };
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('fills the documented defaults', () => {
    expect(loadConfig({ ...minimal, AUTH_TOKENS_FILE: 'tokens' })).toMatchObject({
      auth: { mode: 'tokens', tokensFile: expect.stringMatching(/\/tokens$/), metricsRequireToken: true },
      allowCidrs: null,
      trustProxy: false,
      httpLimits: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        maxConcurrentStreams: 256,
        maxStreamsPerToken: 64,
        clientStallTimeoutMs: 60_000,
      },
    });
  });

  it('matches DEFAULT_HTTP_LIMITS when nothing is set, so createApp without config caps streams the same', () => {
    expect(loadConfig(minimal).httpLimits).toEqual(DEFAULT_HTTP_LIMITS);
  });

  it.each([
    ['256', 64],
    ['10', 2],
    ['7', 1],
    ['3', 1],
    ['1', 1],
  ])('defaults MAX_STREAMS_PER_TOKEN to a quarter of MAX_CONCURRENT_STREAMS=%s, rounded down, at least 1: %i', (streams, perToken) => {
    expect(loadConfig({ ...minimal, MAX_CONCURRENT_STREAMS: streams }).httpLimits.maxStreamsPerToken).toBe(perToken);
  });

  it('takes MAX_STREAMS_PER_TOKEN when set, up to MAX_CONCURRENT_STREAMS', () => {
    expect(loadConfig({ ...minimal, MAX_STREAMS_PER_TOKEN: '100' }).httpLimits.maxStreamsPerToken).toBe(100);
    expect(loadConfig({ ...minimal, MAX_CONCURRENT_STREAMS: '8', MAX_STREAMS_PER_TOKEN: '8' }).httpLimits.maxStreamsPerToken).toBe(8);
    expect(problems({ ...minimal, MAX_CONCURRENT_STREAMS: '8', MAX_STREAMS_PER_TOKEN: '9' })).toEqual([
      'MAX_STREAMS_PER_TOKEN: must not be larger than MAX_CONCURRENT_STREAMS',
    ]);
    expect(problems({ ...minimal, MAX_STREAMS_PER_TOKEN: '0' })).toEqual([expect.stringMatching(/^MAX_STREAMS_PER_TOKEN:/)]);
    expect(problems({ ...minimal, MAX_STREAMS_PER_TOKEN: 'many' })).toEqual([expect.stringMatching(/^MAX_STREAMS_PER_TOKEN:/)]);
  });

  it('runs open without any AUTH_* variable (DESIGN.md starts the service without them), and says so as unset', () => {
    expect(loadConfig(minimal).auth.mode).toBe('unset');
    expect(loadConfig({ ...minimal, AUTH_MODE: 'none' }).auth.mode).toBe('none');
    expect(problems({ ...minimal, AUTH_MODE: 'tokens' })).toEqual(['AUTH_TOKENS_FILE: is required when AUTH_MODE=tokens']);
  });

  it('names every bad security variable in one error', () => {
    expect(
      problems({
        ...minimal,
        AUTH_MODE: 'none',
        AUTH_TOKENS_FILE: 'x',
        ALLOW_CIDRS: '10.0.0.0/40',
        TRUST_PROXY: 'true',
        MAX_CONCURRENT_STREAMS: '0',
        HTTP_MAX_HEADER_BYTES: '10',
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MAX_CONCURRENT_STREAMS:/),
        expect.stringMatching(/^HTTP_MAX_HEADER_BYTES:/),
        expect.stringMatching(/^ALLOW_CIDRS:/),
        expect.stringMatching(/^TRUST_PROXY:/),
        'AUTH_MODE: none contradicts AUTH_TOKENS_FILE; set one of them',
      ]),
    );
  });
});
