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
        { name: 'reports', hash: HASH, read: [{ bucket: 'bkt', prefix: 'reports/' }, { bucket: 'other', prefix: '' }], downloads: true, metrics: false },
        { name: 'prom', hash: `sha256:${'b'.repeat(64)}`, read: [], downloads: false, metrics: true },
      ],
    });
  });

  it('reads back the line formatTokenLine writes', () => {
    const parsed = parseTokenFile(formatTokenLine('ci', HASH, ['read=bkt/a/', 'downloads']));
    expect(parsed.ok && parsed.entries[0]).toMatchObject({ name: 'ci', hash: HASH, downloads: true });
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
});
