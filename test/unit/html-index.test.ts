import request from 'supertest';
import { createApp } from '../../src/compose';
import { escapeHtml, html } from '../../src/http/html';
import { humanSize, INDEX_PAGE_CSP, listingPath, objectPath, renderIndexPage } from '../../src/http/html-index';
import { INDEX_PAGE_STYLE, INDEX_PAGE_STYLE_HASH } from '../../src/http/index-page-style';
import { createHash } from 'node:crypto';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import type { ListPage } from '../../src/oss/object-store';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const HOSTILE_KEY = 'dir/<script>alert(1)</script> 100% #1 ?x=1&y="2" \'q\' 日本.txt';

const page: ListPage = {
  objects: [
    { key: 'reports/a.txt', size: 29, etag: '"A"', lastModified: '2026-03-04T05:06:07.000Z', storageClass: 'Standard' },
    { key: `reports/${HOSTILE_KEY}`, size: 1536, etag: '"B"', lastModified: '2026-03-04T05:06:07.000Z', storageClass: 'Standard' },
  ],
  prefixes: ['reports/2026 Q1 #&/'],
  nextCursor: 'cursor/with+plus&amp',
};

function setup(listPage: ListPage = page) {
  const store = new FakeStore();
  store.listPage = listPage;
  const app = createApp({
    store,
    credentials: new FakeCredentials(),
    allow: [{ bucket: 'bkt', prefix: '' }],
    logger: createLogger('silent'),
    metrics: new Metrics(),
  });
  return { app, store };
}

describe('GET /v1/objects/:bucket content negotiation', () => {
  it.each([
    ['no Accept', undefined],
    ['*/*', '*/*'],
    ['application/json', 'application/json'],
    ['a tie, JSON named first', 'application/json, text/html'],
    ['a tie, HTML named first (order does not decide)', 'text/html, application/json'],
    ['a tie through wildcards', 'text/*;q=0.8, application/*;q=0.8'],
    ['a malformed header', 'text/html;q=abc, garbage'],
    ['JSON preferred by q', 'text/html;q=0.5, application/json'],
    ['HTML refused', 'text/html;q=0, */*'],
    ['neither (the API answer, not a 406)', 'image/png'],
    ['problem+json', 'application/problem+json'],
  ])('keeps the JSON byte for byte for %s', async (_name, accept) => {
    const { app } = setup();
    const req = request(app).get('/v1/objects/bkt?prefix=reports/&delimiter=/');
    const res = await (accept === undefined ? req.unset('Accept') : req.set('Accept', accept));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.text).toBe(JSON.stringify(page));
    expect(res.headers.vary).toMatch(/\bAccept\b/);
  });

  it.each([
    ['a browser', BROWSER_ACCEPT],
    ['text/html alone', 'text/html'],
    ['HTML preferred by q', 'application/json;q=0.5, text/html'],
    ['text/*', 'text/*'],
    ['JSON refused', 'application/json;q=0, */*'],
    ['parameters and case', 'Text/HTML; charset=utf-8; q=0.9, application/json; q=0.8'],
  ])('answers the HTML page to %s', async (_name, accept) => {
    const { app } = setup();
    const res = await request(app).get('/v1/objects/bkt?prefix=reports/&delimiter=/').set('Accept', accept);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toMatch(/^<!doctype html>/);
    expect(res.headers.vary).toMatch(/\bAccept\b/);
  });

  it('sends its own strict Content-Security-Policy with the style hash, and no script', async () => {
    const { app } = setup();
    const res = await request(app).get('/v1/objects/bkt?prefix=reports/&delimiter=/').set('Accept', BROWSER_ACCEPT);
    expect(res.headers['content-security-policy']).toBe(INDEX_PAGE_CSP);
    expect(INDEX_PAGE_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src 'self'/);
    expect(INDEX_PAGE_STYLE_HASH).toBe(`sha256-${createHash('sha256').update(INDEX_PAGE_STYLE).digest('base64')}`);
    expect(res.text).toContain(`<style>${INDEX_PAGE_STYLE}</style>`);
    expect(res.text).not.toMatch(/<script|\son[a-z]+=|javascript:/i);
  });

  it('still checks OSS_ALLOW and the query before answering HTML', async () => {
    const { app, store } = setup();
    const outside = await request(app).get('/v1/objects/other').set('Accept', BROWSER_ACCEPT);
    expect(outside.status).toBe(403);
    expect(outside.headers['content-type']).toMatch(/^application\/problem\+json/);
    const bad = await request(app).get('/v1/objects/bkt?nope=1').set('Accept', BROWSER_ACCEPT);
    expect(bad.status).toBe(400);
    expect(store.calls).toHaveLength(0);
  });
});

describe('the index page', () => {
  const query = { bucket: 'bkt', prefix: 'reports/', delimiter: '/' };
  const text = renderIndexPage(query, page).text;

  it('escapes every key and never lets one become markup', () => {
    expect(text).not.toContain('<script>');
    expect(text).toContain('dir/&lt;script&gt;alert(1)&lt;/script&gt; 100% #1 ?x=1&amp;y=&quot;2&quot; &#39;q&#39; 日本.txt');
    expect(text).toContain('2026 Q1 #&amp;/');
  });

  it('links each object segment by segment, so %, #, ?, spaces and unicode survive', () => {
    const href = `/v1/objects/bkt/reports/dir/${encodeURIComponent('<script>alert(1)<')}${encodeURIComponent('/script> 100% #1 ?x=1&y="2" \'q\' 日本.txt').replace('%2F', '/')}`;
    expect(objectPath('bkt', `reports/${HOSTILE_KEY}`)).toBe(href);
    expect(new URL(href, 'http://x').pathname.split('/').map(decodeURIComponent).slice(4).join('/')).toBe(`reports/${HOSTILE_KEY}`);
    expect(text).toContain(`href="${escapeHtml(href)}"`);
    expect(text).toContain(`href="${escapeHtml(`${href}?download=1`)}"`);
  });

  it('links folders to their own listing and keeps the delimiter', () => {
    expect(text).toContain(`href="/v1/objects/bkt?prefix=${encodeURIComponent('reports/2026 Q1 #&/')}&amp;delimiter=%2F"`);
  });

  it('shows breadcrumbs: the bucket and each folder of the prefix, the last one current', () => {
    const crumbs = renderIndexPage({ bucket: 'bkt', prefix: 'a/b c/d/', delimiter: '/' }, page).text;
    expect(crumbs).toContain('<a href="/v1/objects/bkt?delimiter=%2F">bkt</a>');
    expect(crumbs).toContain('<a href="/v1/objects/bkt?prefix=a%2F&amp;delimiter=%2F">a</a>');
    expect(crumbs).toContain('<a href="/v1/objects/bkt?prefix=a%2Fb%20c%2F&amp;delimiter=%2F">b c</a>');
    expect(crumbs).toContain('<span aria-current="page">d</span>');
    const partial = renderIndexPage({ bucket: 'bkt', prefix: 'a/rep', delimiter: '/' }, page).text;
    expect(partial).toContain('<span aria-current="page">rep…</span>');
    const root = renderIndexPage({ bucket: 'bkt', prefix: '' }, page).text;
    expect(root).toContain('<span aria-current="page">bkt</span>');
  });

  it('links the next page from nextCursor, keeping prefix, delimiter and an explicit limit', () => {
    const withLimit = renderIndexPage({ ...query, limit: 2 }, page).text;
    expect(withLimit).toContain(
      `<a rel="next" href="/v1/objects/bkt?prefix=reports%2F&amp;delimiter=%2F&amp;limit=2&amp;cursor=${encodeURIComponent('cursor/with+plus&amp').replaceAll('&', '&amp;')}">`,
    );
    const last = renderIndexPage(query, { ...page, nextCursor: null }).text;
    expect(last).not.toContain('rel="next"');
    const second = renderIndexPage({ ...query, cursor: 'c2' }, { ...page, nextCursor: null }).text;
    expect(second).toContain('<a href="/v1/objects/bkt?prefix=reports%2F&amp;delimiter=%2F">First page</a>');
  });

  it('counts folders and objects on the page, with human sizes and UTC dates', () => {
    expect(text).toContain('1 folder, 2 objects on this page · more on the next page');
    expect(text).toContain('>29 B<');
    expect(text).toContain('>1.5 KiB<');
    expect(text).toContain('<time datetime="2026-03-04T05:06:07.000Z">2026-03-04 05:06 UTC</time>');
    const empty = renderIndexPage(query, { objects: [], prefixes: [], nextCursor: null }).text;
    expect(empty).toContain('0 objects');
    expect(empty).toContain('Nothing here under <code>reports/</code>.');
  });

  it('round-trips its own links through the listing route', async () => {
    const { app, store } = setup();
    await request(app).get(listingPath({ bucket: 'bkt', prefix: 'a b/#?%/日本/', delimiter: '/', limit: 5, cursor: 'x+y' }));
    expect(store.calls[0].request).toEqual({ bucket: 'bkt', prefix: 'a b/#?%/日本/', delimiter: '/', limit: 5, cursor: 'x+y' });
  });
});

describe('html and humanSize', () => {
  it('escapes interpolated text, not nested fragments', () => {
    expect(html`<b>${'<i>&"\''}</b>${html`<br>`}${['<', html`>`]}`.text).toBe('<b>&lt;i&gt;&amp;&quot;&#39;</b><br>&lt;>');
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [1024 ** 3, '1.0 GiB'],
  ])('writes %i bytes as %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });
});
