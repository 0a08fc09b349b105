import { createHash } from 'node:crypto';

/**
 * The index page's only style, inlined and allowed by its hash in the page's
 * Content-Security-Policy: no second request (which would need the caller's
 * credentials again), and nothing else can style or script the page.
 */
export const INDEX_PAGE_STYLE = `
:root{color-scheme:light;--fg:#1f2328;--muted:#656d76;--line:#d8dee4;--accent:#0b57d0;--band:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK JP",sans-serif;color:var(--fg);background:#fff}
header,main{max-width:64rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.25rem;padding-bottom:.5rem}
.service{margin:0;font-size:.8rem;letter-spacing:.04em;text-transform:uppercase;color:var(--muted)}
h1{margin:.25rem 0 .25rem;font-size:1.35rem;font-weight:600;overflow-wrap:anywhere}
h1 a{color:var(--accent);text-decoration:none}
h1 a:hover{text-decoration:underline}
h1 .sep{color:var(--muted);margin:0 .3rem;font-weight:400}
.summary{margin:0;color:var(--muted);font-size:.9rem}
table{width:100%;border-collapse:collapse;margin:.75rem 0 1rem}
th{text-align:left;font-size:.78rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line);padding:.4rem .5rem}
td{border-bottom:1px solid var(--line);padding:.55rem .5rem;vertical-align:baseline}
tbody tr:hover{background:var(--band)}
td.name{overflow-wrap:anywhere;width:100%}
td.name a{color:var(--accent);text-decoration:none}
td.name a:hover{text-decoration:underline}
tr.folder td.name a{font-weight:600}
tr.folder td.name a::before{content:"";display:inline-block;width:.95em;height:.7em;margin-right:.45em;border-radius:2px;background:#e3a008;vertical-align:-.05em}
.size,.date{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
.size{text-align:right}
.get{white-space:nowrap;text-align:right}
.get a{display:inline-block;padding:.1rem .6rem;border:1px solid var(--line);border-radius:6px;color:var(--fg);text-decoration:none;font-size:.85rem}
.get a:hover{border-color:var(--accent);color:var(--accent)}
.empty{color:var(--muted);padding:1rem 0}
.pager{display:flex;gap:1rem;justify-content:flex-end;padding-bottom:2rem}
.pager a{color:var(--accent);font-weight:600;text-decoration:none}
.hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
@media (max-width:40rem){
body{font-size:16px}
thead{display:none}
tr{display:grid;grid-template-columns:auto 1fr auto;column-gap:.75rem;border-bottom:1px solid var(--line);padding:.5rem}
td{border:0;padding:0}
td.name{grid-column:1 / 3;grid-row:1}
td.size{grid-row:2;grid-column:1;text-align:left;font-size:.85rem}
td.date{grid-row:2;grid-column:2;font-size:.85rem}
td.get{grid-column:3;grid-row:1 / span 2;align-self:center}
tr.folder td.size,tr.folder td.date{display:none}
}
`;

export const INDEX_PAGE_STYLE_HASH = `sha256-${createHash('sha256').update(INDEX_PAGE_STYLE, 'utf8').digest('base64')}`;
