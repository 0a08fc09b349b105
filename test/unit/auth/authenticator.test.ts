import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { bearerToken, findEntry, TokenFileAuthenticator } from '../../../src/auth/authenticator';
import { formatTokenLine } from '../../../src/auth/token-file';
import { generateToken, hashToken, redactTokens, TOKEN_PREFIX } from '../../../src/auth/tokens';
import { AppError } from '../../../src/errors';
import { createLogger } from '../../../src/logger';

function statusOf(fn: () => unknown): { status: number; challenge?: string } | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { status: err.status, challenge: err.headers['WWW-Authenticate'] };
    throw err;
  }
  return undefined;
}

describe('tokens', () => {
  it('generates distinct prefixed 256-bit tokens', () => {
    const a = generateToken();
    expect(a).toMatch(/^odt_[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
  });

  it('redacts every token in a URL', () => {
    const token = generateToken();
    expect(redactTokens(`/v1/objects/b/k?access_token=${token}&x=${token}`)).toBe(
      `/v1/objects/b/k?access_token=${TOKEN_PREFIX}[redacted]&x=${TOKEN_PREFIX}[redacted]`,
    );
  });
});

describe('bearerToken', () => {
  it('reads the token, with the scheme in any case', () => {
    expect(bearerToken('Bearer abcdefghijklmnop')).toBe('abcdefghijklmnop');
    expect(bearerToken('bearer abcdefghijklmnop')).toBe('abcdefghijklmnop');
  });

  it('answers 401 with a bare challenge when the header is missing', () => {
    expect(statusOf(() => bearerToken(undefined))).toEqual({ status: 401, challenge: 'Bearer realm="oss-download-service"' });
  });

  it.each(['Basic abc', 'Bearer', 'Bearer a b c d e f g h', 'Bearer short', `Bearer ${'x'.repeat(513)}`, 'Bearer tök'])(
    'answers 401 invalid_token for %j',
    (value) => {
      expect(statusOf(() => bearerToken(value))?.challenge).toMatch(/error="invalid_token"/);
    },
  );
});

describe('findEntry', () => {
  it('finds the entry whose hash matches, and no other', () => {
    const token = generateToken();
    const entries = ['a', 'b', 'c'].map((name, i) => ({
      name,
      hash: i === 1 ? hashToken(token) : hashToken(generateToken()),
      read: [],
      downloads: [],
      metrics: false,
    }));
    expect(findEntry(entries, token)?.name).toBe('b');
    expect(findEntry(entries, generateToken())).toBeUndefined();
  });
});

describe('TokenFileAuthenticator', () => {
  let dir: string;
  let file: string;
  const logger = createLogger('silent');
  const a = generateToken();
  const b = generateToken();
  const write = async (text: string) => {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tokens-'));
    file = path.join(dir, 'tokens');
    await write(`${formatTokenLine('alice', hashToken(a), ['read=bkt'])}\n`);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('authenticates a listed token as its principal and refuses others with 401', async () => {
    const auth = await TokenFileAuthenticator.load(file, logger);
    expect(auth.authenticate(`Bearer ${a}`)).toMatchObject({ name: 'alice', read: [{ bucket: 'bkt', prefix: '' }] });
    expect(statusOf(() => auth.authenticate(`Bearer ${b}`))?.status).toBe(401);
  });

  it('refuses to load a file that does not parse', async () => {
    await write('alice not-a-hash read=bkt\n');
    await expect(TokenFileAuthenticator.load(file, logger)).rejects.toThrow(/line 1: hash/);
  });

  it('picks up a replaced file through its watch', async () => {
    const lines = new PassThrough();
    const auth = await TokenFileAuthenticator.load(file, createLogger('info', lines));
    auth.watch();
    try {
      const reloaded = loggedLine(lines, 'tokens reloaded');
      await write(`${formatTokenLine('bob', hashToken(b), ['read=bkt'])}\n`);
      expect(await reloaded).toMatchObject({ tokens: 1, names: ['bob'] });
      expect(auth.authenticate(`Bearer ${b}`).name).toBe('bob');
      expect(statusOf(() => auth.authenticate(`Bearer ${a}`))?.status).toBe(401);
    } finally {
      auth.close();
    }
  });

  it('keeps the tokens in force when the file becomes invalid or disappears', async () => {
    const auth = await TokenFileAuthenticator.load(file, logger);
    await write('garbage\n');
    expect(await auth.reload()).toBe(false);
    await rm(file);
    expect(await auth.reload()).toBe(false);
    expect(auth.authenticate(`Bearer ${a}`).name).toBe('alice');
  });
});

/** Resolves with the first JSON log line written to `stream` whose msg is `msg`: the watch's reload is awaited, not slept for. */
function loggedLine(stream: PassThrough, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line.msg !== msg) continue;
        stream.off('data', onData);
        resolve(line);
        return;
      }
    };
    stream.on('data', onData);
  });
}
