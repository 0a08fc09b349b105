import type { Request, Response } from 'express';
import type { ListPage, ObjectSummary } from '../oss/object-store';
import { html, SafeHtml } from './html';
import { INDEX_PAGE_STYLE, INDEX_PAGE_STYLE_HASH } from './index-page-style';

/**
 * The listing as a page for people: GET /v1/objects/{bucket} answers it to a
 * request that prefers HTML (a browser's Accept) and JSON to everyone else.
 * Server-rendered, no script at all; every key is escaped for HTML and
 * percent-encoded in URLs (segment by segment in object paths, so `%`, `#`,
 * `?`, spaces and unicode survive), and the page's own CSP allows only its
 * hashed inline style.
 */

/** The listing query as the caller sent it, to build links that keep it. */
export interface IndexQuery {
  bucket: string;
  prefix: string;
  delimiter?: string;
  /** Only when the caller set it: the links then keep it. */
  limit?: number;
  cursor?: string;
}

export const INDEX_PAGE_CSP = [
  "default-src 'none'",
  `style-src '${INDEX_PAGE_STYLE_HASH}'`,
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * True when the request prefers HTML to JSON: text/html has a strictly higher
 * quality than application/json in Accept (RFC 9110 section 12.5.1, the most
 * specific range deciding each). Ties go to JSON whatever their order, so
 * `Accept: *\/*`, `application/json`, none at all, or anything naming
 * neither keep the API's answer; a browser's `text/html,...,*\/*;q=0.8` gets
 * the page.
 */
export function prefersHtml(req: Request): boolean {
  const ranges = parseAccept(req.get('accept'));
  return quality(ranges, 'text', 'html') > quality(ranges, 'application', 'json');
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined) return [];
  return header.split(',').flatMap((part) => {
    const [range, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) return [];
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return Number.isFinite(q) && q >= 0 && q <= 1 ? [{ type, subtype, q }] : [];
  });
}

/** The q of the most specific range that matches type/subtype; 0 when none does. */
function quality(ranges: MediaRange[], type: string, subtype: string): number {
  const exact = ranges.find((r) => r.type === type && r.subtype === subtype);
  const ofType = ranges.find((r) => r.type === type && r.subtype === '*');
  const any = ranges.find((r) => r.type === '*' && r.subtype === '*');
  return (exact ?? ofType ?? any)?.q ?? 0;
}

export function sendIndexPage(res: Response, query: IndexQuery, page: ListPage): void {
  res.setHeader('Content-Security-Policy', INDEX_PAGE_CSP);
  res.type('text/html; charset=utf-8');
  res.send(renderIndexPage(query, page).text);
}

/** `/v1/objects/{bucket}/{key}` with each key segment percent-encoded. */
export function objectPath(bucket: string, key: string): string {
  return `/v1/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The listing URL for `query` (keys in a stable order; only what is set). */
export function listingPath(query: IndexQuery): string {
  const params: [string, string | number | undefined][] = [
    ['prefix', query.prefix || undefined],
    ['delimiter', query.delimiter],
    ['limit', query.limit],
    ['cursor', query.cursor],
  ];
  const search = params
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join('&');
  return `/v1/objects/${encodeURIComponent(query.bucket)}${search ? `?${search}` : ''}`;
}

export function renderIndexPage(query: IndexQuery, page: ListPage): SafeHtml {
  // Folders are browsed by "/" unless the listing names another delimiter; a folder starts at its first page.
  const folderUrl = (prefix: string) => listingPath({ ...query, prefix, delimiter: query.delimiter ?? '/', cursor: undefined });
  const title = `${query.bucket}/${query.prefix}`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<title>${title} · oss-download-service</title>
<style>${new SafeHtml(INDEX_PAGE_STYLE)}</style>
</head>
<body>
<header>
<p class="service">oss-download-service</p>
<nav aria-label="Breadcrumbs"><h1>${breadcrumbs(query, folderUrl)}</h1></nav>
<p class="summary">${summary(page, query)}</p>
</header>
<main>
${
  page.objects.length + page.prefixes.length === 0
    ? html`<p class="empty">Nothing here${query.prefix ? html` under <code>${query.prefix}</code>` : ''}.</p>`
    : html`<table>
<thead><tr><th>Name</th><th class="size">Size</th><th class="date">Last modified</th><th class="get"><span class="hidden">Download</span></th></tr></thead>
<tbody>
${page.prefixes.map((prefix) => folderRow(query, prefix, folderUrl(prefix)))}${page.objects.map((object) => objectRow(query, object))}</tbody>
</table>`
}
<nav class="pager" aria-label="Pages">${
    query.cursor ? html`<a href="${listingPath({ ...query, cursor: undefined })}">First page</a>` : ''
  }${page.nextCursor ? html`<a rel="next" href="${listingPath({ ...query, cursor: page.nextCursor })}">Next page →</a>` : ''}</nav>
</main>
</body>
</html>
`;
}

function breadcrumbs(query: IndexQuery, folderUrl: (prefix: string) => string): SafeHtml {
  // "reports/2026/" is two folders; "reports/20" is a folder and the start of a name.
  const segments = query.prefix.split('/');
  const partial = segments.pop() ?? '';
  const current = (text: string) => html`<span aria-current="page">${text}</span>`;
  const crumbs: SafeHtml[] = [segments.length === 0 && partial === '' ? current(query.bucket) : html`<a href="${folderUrl('')}">${query.bucket}</a>`];
  segments.forEach((segment, i) => {
    const isCurrent = i === segments.length - 1 && partial === '';
    const prefix = `${segments.slice(0, i + 1).join('/')}/`;
    crumbs.push(html`<span class="sep">/</span>`, isCurrent ? current(segment) : html`<a href="${folderUrl(prefix)}">${segment}</a>`);
  });
  if (partial !== '') crumbs.push(html`<span class="sep">/</span>`, current(`${partial}…`));
  return html`${crumbs}`;
}

function summary(page: ListPage, query: IndexQuery): SafeHtml {
  const objects = plural(page.objects.length, 'object');
  const parts = page.prefixes.length > 0 ? `${plural(page.prefixes.length, 'folder')}, ${objects}` : objects;
  const where = query.cursor || page.nextCursor ? ' on this page' : '';
  return html`${parts}${where}${page.nextCursor ? ' · more on the next page' : ''}`;
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function folderRow(query: IndexQuery, prefix: string, url: string): SafeHtml {
  return html`<tr class="folder"><td class="name"><a href="${url}">${relativeName(query.prefix, prefix)}</a></td><td class="size"></td><td class="date"></td><td class="get"></td></tr>
`;
}

function objectRow(query: IndexQuery, object: ObjectSummary): SafeHtml {
  const url = objectPath(query.bucket, object.key);
  return html`<tr><td class="name"><a href="${url}">${relativeName(query.prefix, object.key)}</a></td><td class="size" title="${object.size.toLocaleString('en-US')} bytes">${humanSize(object.size)}</td><td class="date">${dateCell(object.lastModified)}</td><td class="get"><a href="${url}?download=1" aria-label="Download ${object.key}">Download</a></td></tr>
`;
}

/** The key below the listed prefix; the whole key when nothing is left (a folder marker). */
function relativeName(prefix: string, key: string): string {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return rest === '' ? key : rest;
}

/** 1024-based, as `ls -h` and the command line's progress bar: 29 B, 1.5 KiB, 1.0 GiB. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function dateCell(lastModified: string): SafeHtml {
  const date = new Date(lastModified);
  if (Number.isNaN(date.getTime())) return html``;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}
