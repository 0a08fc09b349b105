import { formatTokenLine, parseTokenFile } from '../../../src/auth/token-file';
import { hashToken } from '../../../src/auth/tokens';

const HASH = hashToken('odt_example-token-for-tests');

describe('parseTokenFile', () => {
  it('reads names, hashes and scopes, skipping comments and blank lines', () => {
    const parsed = parseTokenFile(
      `# callers\n\nreports ${HASH} read=bkt/reports/ read=other downloads  # inline comment\nprom sha256:${'b'.repeat(64)} metrics\n`,
    );
    expect(parsed).toEqual({
      ok: true,
      entries: [
        {
          name: 'reports',
          hash: HASH,
          read: [
            { bucket: 'bkt', prefix: 'reports/' },
            { bucket: 'other', prefix: '' },
          ],
          downloads: [''],
          metrics: false,
        },
        { name: 'prom', hash: `sha256:${'b'.repeat(64)}`, read: [], downloads: [], metrics: true },
      ],
    });
  });

  it('reads back the line formatTokenLine writes', () => {
    const parsed = parseTokenFile(formatTokenLine('ci', HASH, ['read=bkt/a/', 'downloads']));
    expect(parsed.ok && parsed.entries[0]).toMatchObject({ name: 'ci', hash: HASH, downloads: [''] });
  });

  const scopesOf = (text: string) => {
    const parsed = parseTokenFile(`ci ${HASH} ${text}`);
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    return parsed.entries[0];
  };

  describe('downloads scopes', () => {
    it('reads repeated downloads=PREFIX scopes as literal path prefixes', () => {
      expect(scopesOf('downloads=models/ downloads=datasets/2024- read=bkt').downloads).toEqual(['models/', 'datasets/2024-']);
    });

    it('reads bare downloads as anywhere under the root, and no downloads scope as none', () => {
      expect(scopesOf('downloads').downloads).toEqual(['']);
      expect(scopesOf('downloads downloads=models/').downloads).toEqual(['', 'models/']);
      expect(scopesOf('read=bkt').downloads).toEqual([]);
    });

    it('lists a prefix given twice once', () => {
      expect(scopesOf('downloads=models/ downloads=models/').downloads).toEqual(['models/']);
    });

    it.each([
      ['a name prefix after the last folder', 'downloads=models/gpt', ['models/gpt']],
      ['a name prefix without any folder', 'downloads=report', ['report']],
      ['a dot name after the last slash', 'downloads=cache/.', ['cache/.']],
      ['non-ASCII', 'downloads=モデル/', ['モデル/']],
      ['exactly 1024 bytes', `downloads=${'a'.repeat(1023)}/`, [`${'a'.repeat(1023)}/`]],
    ])('accepts %s', (_name, text, prefixes) => {
      expect(scopesOf(text).downloads).toEqual(prefixes);
    });

    it.each([
      ['an empty prefix', 'downloads=', /needs a prefix/],
      ['an absolute prefix', 'downloads=/models/', /no leading \//],
      ['a .. folder', 'downloads=models/../etc/', /empty, \. or \.\. folders/],
      ['a leading .. folder', 'downloads=../', /empty, \. or \.\. folders/],
      ['a . folder', 'downloads=./models/', /empty, \. or \.\. folders/],
      ['an empty folder', 'downloads=models//x', /empty, \. or \.\. folders/],
      ['a backslash', 'downloads=models\\x', /control characters or backslashes/],
      ['a control character', 'downloads=models\u0001/', /control characters or backslashes/],
      ['a C1 control character', 'downloads=models\u0085/', /control characters or backslashes/],
      ['a lone surrogate', 'downloads=model\ud800/', /well-formed/],
      ['more than 1024 bytes', `downloads=${'é'.repeat(513)}`, /at most 1024 bytes/],
      ['a # inside', 'downloads=models#1/', /cannot hold # or whitespace/],
    ])('refuses %s, naming the line', (_name, scope, problem) => {
      const parsed = parseTokenFile(`# callers\nci ${HASH} read=bkt ${scope}\n`);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.errors).toEqual([expect.stringMatching(new RegExp(`^line 2: scopes\\.1: .*${problem.source}`))]);
    });
  });

  describe('# in a line', () => {
    it('starts a comment at the start of a line, indented or not, and after whitespace', () => {
      const parsed = parseTokenFile(`#a\n   # b\nci ${HASH} read=bkt\t# read=other\nprom sha256:${'b'.repeat(64)} metrics #downloads\n`);
      expect(parsed).toMatchObject({
        ok: true,
        entries: [
          { name: 'ci', read: [{ bucket: 'bkt', prefix: '' }], downloads: [] },
          { name: 'prom', downloads: [], metrics: true },
        ],
      });
    });

    it('refuses a read scope with # inside rather than widening it to the part before', () => {
      const parsed = parseTokenFile(`ci ${HASH} read=bkt/pub#1/\n`);
      expect(parsed).toEqual({ ok: false, errors: ['line 1: scopes.0: a scope cannot hold # or whitespace'] });
    });

    it('refuses a # glued to the end of a scope, and a # in a name or hash', () => {
      expect(parseTokenFile(`ci ${HASH} read=bkt#`)).toMatchObject({ ok: false, errors: [expect.stringMatching(/^line 1: scopes\.0:/)] });
      expect(parseTokenFile(`ci#x ${HASH} read=bkt`)).toMatchObject({ ok: false, errors: [expect.stringMatching(/^line 1: name:/)] });
      expect(parseTokenFile(`ci ${HASH}#x read=bkt`)).toMatchObject({ ok: false, errors: [expect.stringMatching(/^line 1: hash:/)] });
    });
  });

  it.each([
    ['a bad hash', `a sha256:${'z'.repeat(64)} read=bkt`, /line 1: hash/],
    ['a raw token where the hash goes', 'a odt_secretsecretsecret read=bkt', /line 1: hash/],
    ['an upper-case hash', `a sha256:${'A'.repeat(64)} read=bkt`, /line 1: hash/],
    ['a bad name', `-a ${HASH} read=bkt`, /line 1: name/],
    ['no scope', `a ${HASH}`, /line 1: scopes: at least one/],
    ['an unknown scope', `a ${HASH} admin`, /line 1: scopes\.0/],
    ['a bad bucket', `a ${HASH} read=Bad_Bucket`, /line 1: scopes\.0/],
    ['an empty read scope', `a ${HASH} read=`, /line 1: scopes\.0/],
    ['downloads with a colon instead of =', `a ${HASH} downloads:models/`, /line 1: scopes\.0: must be read=BUCKET/],
    ['a duplicate name', `a ${HASH} read=bkt\na sha256:${'c'.repeat(64)} read=bkt`, /the name a appears twice/],
    ['a duplicate token', `a ${HASH} read=bkt\nb ${HASH} read=bkt`, /the token of b is listed twice/],
    ['no caller at all', '# nothing here\n', /names no caller/],
  ])('refuses %s', (_name, text, problem) => {
    const parsed = parseTokenFile(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.join('\n')).toMatch(problem);
  });

  it('never echoes a line, so a pasted raw token cannot reach a log', () => {
    const parsed = parseTokenFile('a odt_secretsecretsecret read=bkt');
    expect(JSON.stringify(parsed)).not.toContain('odt_secret');
  });

  it('never echoes a scope either, wherever a raw token was pasted', () => {
    const parsed = parseTokenFile(`a ${HASH} odt_secretsecretsecret downloads=odt_secret#x read=odt_secret`);
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain('odt_secret');
  });
});
