import type { RawRequest } from './support/raw-http';
import { PUBLIC_BUCKET, type CallerName } from './support/secure-service';

/**
 * The hostile-input table: each row one request and exactly what must come
 * back. Rows are data, so adding an endpoint means adding rows (see
 * DOWNLOAD_BODY_CASES for POST /v1/downloads).
 */
export interface HostileCase {
  /** Unique; the test's title. */
  name: string;
  request: RawRequest;
  /** Whose token goes in Authorization (default: reader); null sends none. */
  as?: CallerName | null;
  status: number;
  /** The problem+json code; absent for successes and for HEAD (no body). */
  code?: string;
  /** OSS requests this one is due to cause (default 0). */
  upstream?: number;
  /** Extra header checks: name → expected value, or null for "must be absent". */
  headers?: Record<string, string | null>;
}

const BUCKET = 'demo-bucket';
const OBJ = `/v1/objects/${BUCKET}`;
/** An object that exists: 1024 bytes. */
export const EXISTING_KEY = 'docs/hello.txt';
const EXISTING = `${OBJ}/${EXISTING_KEY}`;
const utf8x = (hex: string, n: number) => hex.repeat(n);

/** Both GET and HEAD of one object path. HEAD answers carry no body, so no code. */
function getAndHead(name: string, target: string, status: number, code: string | undefined, upstream = 0): HostileCase[] {
  return [
    { name: `GET ${name}`, request: { target }, status, code, upstream },
    { name: `HEAD ${name}`, request: { method: 'HEAD', target }, status, upstream },
  ];
}

// ---- object keys -------------------------------------------------------

/** Keys refused before OSS: 400 InvalidRequest. Raw path after the bucket. */
const REFUSED_KEYS: Array<[string, string]> = [
  ['NUL alone', '%00'],
  ['NUL inside', 'a%00b'],
  ['NUL at the end', 'docs/hello.txt%00'],
  ['NUL then extension', 'secret%00.txt'],
  ['lone percent', '%'],
  ['percent at the end', 'a%'],
  ['non-hex escape', '%G1'],
  ['truncated escape', 'a%2'],
  ['truncated UTF-8', '%E0%A4%A'],
  ['overlong slash (C0 AF)', '%C0%AF'],
  ['overlong dots', '%C0%AE%C0%AE/x'],
  ['UTF-16 surrogate', '%ED%A0%80'],
  ['byte FF', '%FF'],
  ['BOM bytes FE FF', '%FE%FF'],
  ['lone continuation byte', '%80'],
  ['double percent', '%%32%65'],
  ['1024 ASCII bytes', 'k'.repeat(1024)],
  ['1026 UTF-8 bytes', utf8x('%E6%97%A5', 342)],
  ['1024 bytes of a/', 'a/'.repeat(512)],
  ['leading slash', '/etc/passwd'],
  ['encoded leading slash', '%2Fetc%2Fpasswd'],
  ['leading backslash', '%5Cwindows%5Csystem32'],
  ['dot-dot', '..'],
  ['dot', '.'],
  ['dot-dot then key', '../secret'],
  ['dot then key', './x'],
  ['dot-dot inside', 'a/../b'],
  ['dot inside', 'a/./b'],
  ['dot-dot at the end', 'a/..'],
  ['dot at the end', 'a/.'],
  ['encoded dot-dot', '%2E%2E/x'],
  ['lower-case encoded dot-dot and slash', '%2e%2e%2fx'],
  ['encoded traversal to /etc/passwd', '..%2F..%2F..%2Fetc%2Fpasswd'],
  ['traversal into another prefix', 'docs/..%2F..%2Fother-bucket%2Fx'],
  ['half-encoded dot-dot', '.%2E/x'],
  ['encoded single dot', 'a/%2E'],
  ['deep traversal', `${'../'.repeat(20)}etc/passwd`],
  ['traversal to the metadata path', '..%2F..%2Flatest%2Fmeta-data%2Fram%2Fsecurity-credentials%2F'],
  ['traversal after a valid prefix', 'docs/../../../metrics'],
];

/** Keys OSS may hold: forwarded once, as the key itself, and OSS says 404 NoSuchKey. */
const FORWARDED_KEYS: Array<[string, string]> = [
  ['double-encoded traversal', '%252E%252E%252Fetc%252Fpasswd'],
  ['double-encoded slash', 'a%252Fb'],
  ['encoded slash', 'a%2Fb'],
  ['three dots', '...'],
  ['dots inside a name', 'a..b/..c/d..'],
  ['hidden file', '.hidden'],
  ['three-dot segment', 'a/.../b'],
  ['backslash traversal (not a separator in OSS)', '..%5C..%5Cwindows'],
  ['matrix parameter', 'a;jsessionid=1'],
  ['encoded question mark', 'a%3Fb=1'],
  ['encoded hash', 'a%23b'],
  ['metadata URL as a key', 'http:%2F%2F100.100.100.200%2Flatest%2Fmeta-data%2F'],
  ['metadata URL with raw slashes', 'http://100.100.100.200/latest/meta-data/ram/security-credentials/'],
  ['userinfo-looking key', '@100.100.100.200'],
  ['encoded at-sign host', '%40evil.example%2Fx'],
  ['localhost URL as a key', 'http:%2F%2F127.0.0.1:8080%2Fmetrics'],
  ['CR LF header injection in the key', 'a%0D%0ASet-Cookie:%20evil=1'],
  ['LF alone in the key', 'a%0Ab'],
  ['tab', 'a%09b'],
  ['DEL', 'a%7Fb'],
  ['C1 control', 'a%C2%85b'],
  ['right-to-left override', 'invoice%E2%80%AEfdp.exe'],
  ['zero-width space', '%E2%80%8Bdocs/hello.txt'],
  ['fullwidth letters', '%EF%BD%84ocs/hello.txt'],
  ['Cyrillic homoglyph', 'd%D0%BEcs/hello.txt'],
  ['NFD accent', 'cafe%CC%81.txt'],
  ['emoji', '%F0%9F%92%A9.txt'],
  ['script tag', '%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
  ['quotes', '%22%27%60'],
  ['empty segment inside', 'a//b'],
  ['trailing slash', 'docs/'],
  ['1023 ASCII bytes (the limit)', 'k'.repeat(1023)],
  ['1023 UTF-8 bytes (the limit)', utf8x('%E6%97%A5', 341)],
  ['shell metacharacters', '%24(id)%3B%60id%60%7C%26'],
  ['percent-encoded percent', '100%25'],
  ['Windows device name', 'CON'],
  ['drive letter', 'C:%5Cwindows'],
  ['plus sign', 'a+b'],
  ['x-oss parameter look-alike', 'x%3Fx-oss-process=image%2Fresize'],
];

const objectKeyCases: HostileCase[] = [
  ...REFUSED_KEYS.flatMap(([name, key]) => getAndHead(`key: ${name}`, `${OBJ}/${key}`, 400, 'InvalidRequest')),
  ...FORWARDED_KEYS.flatMap(([name, key]) => getAndHead(`key: ${name}`, `${OBJ}/${key}`, 404, 'NoSuchKey', 1)),
  ...getAndHead('key: an unknown query parameter after a raw ?', `${OBJ}/a?b=1`, 400, 'InvalidRequest'),
  ...getAndHead('key: the existing object', EXISTING, 200, undefined, 1),
];

// ---- bucket names --------------------------------------------------------

const BAD_BUCKETS: Array<[string, string]> = [
  ['too short', 'ab'],
  ['too long', 'b'.repeat(64)],
  ['upper case', 'Demo-Bucket'],
  ['underscore', 'demo_bucket'],
  ['leading hyphen', '-demo'],
  ['trailing hyphen', 'demo-'],
  ['a dot inside', 'demo.bucket'],
  ['metadata IP', '100.100.100.200'],
  ['loopback with port', '127.0.0.1:8080'],
  ['localhost with port', 'localhost:80'],
  ['userinfo', 'demo-bucket@evil.example'],
  ['encoded slash', 'demo-bucket%2Fother'],
  ['NUL', 'demo-bucket%00'],
  ['Cyrillic homoglyph', 'd%D0%B5mo-bucket'],
  ['fullwidth', '%EF%BD%84emo-bucket'],
  ['lone percent', '%'],
  ['encoded dot-dot', '%2E%2E'],
  ['dot-dot', '..'],
  ['dot', '.'],
  ['space', 'demo%20bucket'],
  ['star', '*'],
  ['invalid UTF-8', '%C0%AF'],
  ['CR LF', 'demo%0D%0Abucket'],
  ['host with a dot suffix', 'demo-bucket.evil.example'],
  ['IPv6 literal', '%5B::1%5D'],
];

const bucketCases: HostileCase[] = BAD_BUCKETS.flatMap(([name, bucket]) => [
  ...getAndHead(`bucket: ${name}`, `/v1/objects/${bucket}/k`, 400, 'InvalidRequest'),
  { name: `LIST bucket: ${name}`, request: { target: `/v1/objects/${bucket}` }, status: 400, code: 'InvalidRequest' },
]);
bucketCases.push(
  ...getAndHead('bucket: percent-encoded letter (decodes to the allowed bucket)', `/v1/objects/%64emo-bucket/nope`, 404, 'NoSuchKey', 1),
  ...getAndHead('bucket: outside OSS_ALLOW', `/v1/objects/other-bucket/k`, 403, 'NotAllowed'),
  { name: 'LIST bucket: outside OSS_ALLOW', request: { target: '/v1/objects/other-bucket' }, status: 403, code: 'NotAllowed' },
);

// ---- the caller's scope (reader: all of demo-bucket, public-bucket/pub/ only) ----

const PUB = `/v1/objects/${PUBLIC_BUCKET}`;
const scopeCases: HostileCase[] = [
  ...getAndHead('scope: inside the prefix', `${PUB}/pub/a.txt`, 200, undefined, 1),
  ...getAndHead('scope: outside the prefix', `${PUB}/private/b.txt`, 403, 'NotAllowed'),
  ...getAndHead('scope: prefix in another case', `${PUB}/PUB/a.txt`, 403, 'NotAllowed'),
  ...getAndHead('scope: fullwidth prefix', `${PUB}/%EF%BD%90ub/a.txt`, 403, 'NotAllowed'),
  ...getAndHead('scope: the prefix without its slash', `${PUB}/pub`, 403, 'NotAllowed'),
  ...getAndHead('scope: encoded traversal out of the prefix', `${PUB}/pub%2F..%2Fprivate%2Fb.txt`, 400, 'InvalidRequest'),
  ...getAndHead('scope: raw traversal out of the prefix', `${PUB}/pub/../private/b.txt`, 400, 'InvalidRequest'),
  ...getAndHead('scope: a token that may read only pub/', `${OBJ}/${EXISTING_KEY}`, 403, 'NotAllowed').map((c) => ({
    ...c,
    as: 'pub-reader' as const,
  })),
  ...getAndHead('scope: a metrics-only token', `${OBJ}/${EXISTING_KEY}`, 403, 'NotAllowed').map((c) => ({ ...c, as: 'prometheus' as const })),
  { name: 'LIST scope: inside the prefix', request: { target: `${PUB}?prefix=pub/` }, status: 200, upstream: 1 },
  {
    name: 'LIST scope: literal traversal in a prefix stays a literal prefix',
    request: { target: `${PUB}?prefix=pub/../private/` },
    status: 200,
    upstream: 1,
  },
  { name: 'LIST scope: the whole bucket', request: { target: PUB }, status: 403, code: 'NotAllowed' },
  { name: 'LIST scope: a wider prefix', request: { target: `${PUB}?prefix=pu` }, status: 403, code: 'NotAllowed' },
  { name: 'LIST scope: another prefix', request: { target: `${PUB}?prefix=private/` }, status: 403, code: 'NotAllowed' },
];

// ---- query parameters ------------------------------------------------------

const BAD_LIST_QUERIES = [
  'limit=0',
  'limit=-1',
  'limit=1001',
  'limit=abc',
  'limit=',
  'limit=1.5',
  'limit=1&limit=2',
  'limit=Infinity',
  'limit=NaN',
  'limit=99999999999999999999',
  'limit[]=1',
  `prefix=${'p'.repeat(1024)}`,
  'delimiter=ab',
  'delimiter=',
  'cursor=',
  `cursor=${'c'.repeat(4097)}`,
  'foo=1',
  'prefix[]=a',
  '__proto__=x',
  'constructor=x',
  'prefix=a&prefix=b',
  'download=1',
  'access_token=odt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'x-oss-process=image%2Fresize',
  'continuation-token=x',
  'max-keys=1000',
  'encoding-type=url',
  'limit=1%00',
  'delimiter=%2F%2F',
  'versions=yes',
  'versions=true&delimiter=%2F',
  'versions=true&limit=0',
  'versions=true&key-marker=a',
  'versions=true&cursor=%25',
];
const GOOD_LIST_QUERIES = [
  '',
  'prefix=',
  'limit=1',
  'limit=1000',
  'limit=%201%20',
  'limit=1e3',
  'prefix=%00',
  'prefix=..%2F..%2F',
  'delimiter=%2F',
  `prefix=${'p'.repeat(1023)}`,
  'prefix=%3Cscript%3E',
  'prefix=http:%2F%2F100.100.100.200%2F',
  'prefix=&delimiter=%2F&limit=5',
];
const queryCases: HostileCase[] = [
  ...BAD_LIST_QUERIES.map((q) => ({
    name: `LIST query: ${q.slice(0, 60)}`,
    request: { target: `${OBJ}?${q}` },
    status: 400,
    code: 'InvalidRequest',
  })),
  ...GOOD_LIST_QUERIES.map((q) => ({
    name: `LIST query (accepted): ${JSON.stringify(q.slice(0, 60))}`,
    request: { target: `${OBJ}?${q}` },
    status: 200,
    upstream: 1,
  })),
];
const BAD_OBJECT_QUERIES = [
  'download=yes',
  'download=',
  'download=1&download=1',
  'filename=',
  'filename=..%2Fx',
  'filename=a%0D%0Ab',
  'filename=a%2Fb',
  'filename=a%5Cb',
  `filename=${'f'.repeat(256)}`,
  'filename=x&filename=y',
  'foo=bar',
  'x-oss-process=image%2Fresize',
  'response-content-type=text%2Fhtml',
  'response-content-disposition=inline',
  // versionId is accepted, but only as an OSS version id (issue 12), never as a way to smuggle query text to OSS.
  'versionId=',
  'versionId=a%20b',
  'versionId=x&versionId=y',
  `versionId=${'v'.repeat(257)}`,
  'versionId=%00',
  'versionId=a%26acl',
  'versions=true',
  'prefix=x',
  'filename=%00',
  'filename=a%09b',
  'filename[]=x',
];
const GOOD_OBJECT_QUERIES = ['download=1', 'download=true', 'download=0', 'filename=r%C3%A9sum%C3%A9.pdf', 'filename=%25'];
queryCases.push(
  ...BAD_OBJECT_QUERIES.flatMap((q) => getAndHead(`object query: ${q.slice(0, 60)}`, `${EXISTING}?${q}`, 400, 'InvalidRequest')),
  ...GOOD_OBJECT_QUERIES.map((q) => ({
    name: `GET object query (accepted): ${q}`,
    request: { target: `${EXISTING}?${q}` },
    status: 200,
    upstream: 1,
  })),
  {
    name: 'GET object query: CR LF in filename cannot reach Content-Disposition',
    request: { target: `${EXISTING}?download=1&filename=a%0D%0ASet-Cookie:%20x=1` },
    status: 400,
    code: 'InvalidRequest',
    headers: { 'set-cookie': null, 'content-disposition': null },
  },
);

// ---- Range -----------------------------------------------------------------

const MALFORMED_RANGES = [
  'bytes=abc',
  'bytes=9-3',
  'bytes=-',
  'bytes=',
  'bytes=1-2-3',
  'bytes=--1',
  'bytes=1--2',
  'bytes=0x10-0x20',
  'bytes=1.5-2',
  'bytes=+1-2',
  'Bytes=abc',
  'BYTES=5-1',
  'bytes=99999999999999999999-',
  'bytes=0-99999999999999999999',
  'bytes=-99999999999999999999',
  `bytes=${Array.from({ length: 60 }, (_, i) => `${i}-${i}`).join(',')}`,
  'bytes=1-2;x',
  'bytes=1 2-3',
  'bytes=%31-2',
  'bytes=١-٢',
];
const IGNORED_RANGES = ['items=0-5', '0-5', 'bytes 0-5', 'pages=1', '', 'bytes=0-1,2-3', 'bytes=-1,0-0', 'bytes=abc,def'];
const rangeCases: HostileCase[] = [
  ...MALFORMED_RANGES.map((r) => ({
    name: `Range malformed: ${r.slice(0, 60)}`,
    request: { target: EXISTING, headers: { Range: r } },
    status: 416,
    code: 'InvalidRange',
  })),
  ...IGNORED_RANGES.map((r) => ({
    name: `Range ignored (whole object): ${JSON.stringify(r)}`,
    request: { target: EXISTING, headers: { Range: r } },
    status: 200,
    upstream: 1,
    headers: { 'content-length': '1024', 'content-range': null },
  })),
  ...['bytes=0-0', 'BYTES=0-4', 'bytes=0-9999999999999999999', 'bytes=1000-', 'bytes=-5', 'bytes = 1 - 2'].map((r) => ({
    name: `Range served: ${r}`,
    request: { target: EXISTING, headers: { Range: r } },
    status: 206,
    upstream: 1,
  })),
  ...['bytes=9999999999999999999-', 'bytes=1024-'].map((r) => ({
    name: `Range past the end (OSS decides): ${r}`,
    request: { target: EXISTING, headers: { Range: r } },
    status: 416,
    code: 'InvalidRange',
    upstream: 1,
    headers: { 'content-range': 'bytes */1024' },
  })),
];

// ---- headers, request line, sizes ---------------------------------------------

const headerCases: HostileCase[] = [
  {
    name: 'header: CR LF after X-Request-Id only adds a request header',
    request: { target: EXISTING, rawHeaderLines: ['X-Request-Id: abc', 'Set-Cookie: evil=1'] },
    status: 200,
    upstream: 1,
    headers: { 'set-cookie': null, 'x-request-id': 'abc' },
  },
  {
    name: 'header: an unsafe X-Request-Id is replaced',
    request: { target: EXISTING, headers: { 'X-Request-Id': '<script>alert(1)</script>' } },
    status: 200,
    upstream: 1,
  },
  {
    name: 'header: an overlong X-Request-Id is replaced',
    request: { target: EXISTING, headers: { 'X-Request-Id': 'r'.repeat(129) } },
    status: 200,
    upstream: 1,
  },
  {
    name: 'header: obsolete line folding',
    request: { target: EXISTING, rawHeaderLines: ['X-Folded: a', ' b'] },
    status: 400,
    code: 'InvalidRequest',
  },
  { name: 'header: a space in a header name', request: { target: EXISTING, rawHeaderLines: ['X Bad: 1'] }, status: 400, code: 'InvalidRequest' },
  { name: 'header: NUL in a value', request: { target: EXISTING, rawHeaderLines: ['X-Nul: a\u0000b'] }, status: 400, code: 'InvalidRequest' },
  { name: 'header: bare CR in a value', request: { target: EXISTING, rawHeaderLines: ['X-Cr: a\rb'] }, status: 400, code: 'InvalidRequest' },
  { name: 'header: no colon', request: { target: EXISTING, rawHeaderLines: ['NoColonHere'] }, status: 400, code: 'InvalidRequest' },
  {
    name: 'smuggling: Content-Length with Transfer-Encoding',
    request: { target: EXISTING, headers: { 'Content-Length': '5', 'Transfer-Encoding': 'chunked' }, body: '0\r\n\r\n' },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'smuggling: two Content-Lengths',
    request: { target: EXISTING, rawHeaderLines: ['Content-Length: 1', 'Content-Length: 2'], body: 'xx' },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'smuggling: negative Content-Length',
    request: { target: EXISTING, headers: { 'Content-Length': '-1' } },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'smuggling: obfuscated Transfer-Encoding',
    request: { target: EXISTING, headers: { 'Transfer-Encoding': 'chunked, identity' }, body: '0\r\n\r\n' },
    status: 400,
    code: 'InvalidRequest',
  },
  { name: 'size: one 20 KiB header', request: { target: EXISTING, headers: { 'X-Big': 'b'.repeat(20_000) } }, status: 431, code: 'InvalidRequest' },
  {
    name: 'size: 300 headers of 100 bytes',
    request: { target: EXISTING, rawHeaderLines: Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'h'.repeat(90)}`) },
    status: 431,
    code: 'InvalidRequest',
  },
  { name: 'size: a 9 KiB URL', request: { target: `${OBJ}/${'u'.repeat(9000)}` }, status: 414, code: 'InvalidRequest' },
  { name: 'size: a 9 KiB query', request: { target: `${OBJ}?prefix=${'q'.repeat(9000)}` }, status: 414, code: 'InvalidRequest' },
  { name: 'size: a 20 KiB URL', request: { target: `${OBJ}/${'u'.repeat(20_000)}` }, status: 431, code: 'InvalidRequest' },
  { name: 'Host: the metadata address', request: { target: EXISTING, headers: { Host: '100.100.100.200' } }, status: 200, upstream: 1 },
  {
    name: 'forwarding headers change nothing upstream',
    request: {
      target: EXISTING,
      headers: {
        'X-Forwarded-Host': '100.100.100.200',
        'X-Forwarded-For': '100.100.100.200',
        'X-Original-URL': '/metrics',
        'X-Rewrite-URL': '/metrics',
        'X-HTTP-Method-Override': 'DELETE',
      },
    },
    status: 200,
    upstream: 1,
  },
  {
    name: 'request line: absolute-form to the metadata service',
    request: { target: 'http://100.100.100.200/latest/meta-data/ram/security-credentials/' },
    status: 404,
    code: 'NotFound',
  },
  { name: 'request line: absolute-form to our own object', request: { target: `http://evil.example${EXISTING}` }, status: 200, upstream: 1 },
  {
    name: 'request line: CONNECT to the metadata service',
    request: { verbatim: 'CONNECT 100.100.100.200:80 HTTP/1.1\r\nHost: 100.100.100.200:80\r\n\r\n' },
    status: 0,
  },
  {
    name: 'request line: a space in the method',
    request: { verbatim: `GE T ${EXISTING} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` },
    status: 400,
    code: 'InvalidRequest',
  },
  // Node's parser reads any HTTP/x.y line as HTTP/1.1; what matters is that it is authenticated like any other.
  {
    name: 'request line: HTTP/2.0 over cleartext',
    request: { verbatim: `GET ${EXISTING} HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n` },
    status: 401,
    code: 'Unauthorized',
  },
  {
    name: 'request line: raw space in the target',
    request: { verbatim: `GET ${OBJ}/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'request line: raw control character in the target',
    request: { verbatim: `GET ${OBJ}/a\u0001b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'request line: garbage',
    request: { verbatim: '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003\r\n\r\n' },
    status: 400,
    code: 'InvalidRequest',
  },
  { name: 'path: no bucket', request: { target: '/v1/objects/' }, status: 404, code: 'NotFound' },
  { name: 'path: double slash before objects', request: { target: `/v1//objects/${BUCKET}/k` }, status: 404, code: 'NotFound' },
  { name: 'path: traversal to /metrics', request: { target: '/healthz/../metrics' }, status: 404, code: 'NotFound' },
  { name: 'path: encoded traversal to /metrics', request: { target: '/v1/%2e%2e/metrics' }, status: 404, code: 'NotFound' },
  { name: 'path: the metadata path', request: { target: '/latest/meta-data/' }, status: 404, code: 'NotFound' },
];

// ---- methods --------------------------------------------------------------------

const READ_ONLY_PATHS: Array<[string, CallerName]> = [
  [EXISTING, 'reader'],
  [OBJ, 'reader'],
  ['/healthz', 'reader'],
  ['/readyz', 'reader'],
  ['/metrics', 'prometheus'],
];
const methodCases: HostileCase[] = READ_ONLY_PATHS.flatMap(([target, as]) =>
  ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'].map((method) => ({
    name: `method: ${method} ${target}`,
    request: {
      method,
      target,
      ...(method === 'POST' || method === 'PUT' ? { headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' } : {}),
    },
    as,
    status: 405,
    code: 'MethodNotAllowed',
    headers: { allow: 'GET, HEAD' },
  })),
);

// ---- JSON bodies where none is taken -------------------------------------------------

/** Hostile JSON bodies. POST /v1/objects/... answers 405 without reading them. */
export const HOSTILE_JSON: Array<[string, string]> = [
  ['malformed', '{"bucket":'],
  ['deeply nested arrays', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ['deeply nested objects', `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`],
  ['1 MiB string', `{"bucket":"${'x'.repeat(1024 * 1024)}"}`],
  ['prototype pollution', '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}'],
  ['duplicate keys', '{"bucket":"a","bucket":"demo-bucket"}'],
  ['not an object', '"demo-bucket"'],
  ['huge number', `{"overwrite":1${'0'.repeat(400)}}`],
];
const bodyCases: HostileCase[] = HOSTILE_JSON.map(([name, body]) => ({
  name: `body to a read-only endpoint: ${name}`,
  request: { method: 'POST', target: EXISTING, headers: { 'Content-Type': 'application/json' }, body },
  status: 405,
  code: 'MethodNotAllowed',
}));

// ---- authentication --------------------------------------------------------------------

const FAKE = `odt_${'A'.repeat(43)}`;
const authCases: HostileCase[] = [
  ...[EXISTING, OBJ, '/metrics', '/nope', '/v1/downloads'].flatMap((target) => [
    {
      name: `auth: no token, GET ${target}`,
      request: { target },
      as: null,
      status: 401,
      code: 'Unauthorized',
      headers: { 'www-authenticate': 'Bearer realm="oss-download-service"' },
    },
    {
      name: `auth: unknown token, GET ${target}`,
      request: { target, headers: { Authorization: `Bearer ${FAKE}` } },
      as: null,
      status: 401,
      code: 'Unauthorized',
    },
  ]),
  { name: 'auth: no token, POST an object', request: { method: 'POST', target: EXISTING }, as: null, status: 401, code: 'Unauthorized' },
  { name: 'auth: no token, HEAD an object', request: { method: 'HEAD', target: EXISTING }, as: null, status: 401 },
  ...[
    ['Basic credentials', 'Basic dXNlcjpwYXNz'],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['a short token', 'Bearer abc'],
    ['a 600-character token', `Bearer ${'t'.repeat(600)}`],
    ['two tokens', `Bearer ${FAKE} ${FAKE}`],
    ['a token with a comma', `Bearer ${FAKE},x`],
    ['another scheme', `Token ${FAKE}`],
    ['a quoted token', `Bearer "${FAKE}"`],
    ['a JWT-looking token', 'Bearer eyJhbGciOiJub25lIn0.eyJhZG1pbiI6dHJ1ZX0.'],
    ['non-ASCII', 'Bearer tökentökentökentöken'],
    ['a hash instead of a token', `Bearer sha256:${'0'.repeat(64)}`],
  ].map(([name, value]) => ({
    name: `auth: ${name}`,
    request: { target: EXISTING, headers: { Authorization: value } },
    as: null,
    status: 401,
    code: 'Unauthorized',
    headers: { 'www-authenticate': 'Bearer realm="oss-download-service", error="invalid_token"' },
  })),
  {
    name: 'auth: a token in the query string is not a credential',
    request: { target: `${EXISTING}?access_token=${FAKE}` },
    as: null,
    status: 401,
    code: 'Unauthorized',
  },
  { name: 'auth: /healthz needs no token', request: { target: '/healthz' }, as: null, status: 200 },
  { name: 'auth: /readyz needs no token', request: { target: '/readyz' }, as: null, status: 200 },
  { name: 'auth: /metrics with a token without the metrics scope', request: { target: '/metrics' }, status: 403, code: 'NotAllowed' },
  { name: 'auth: /metrics with the metrics scope', request: { target: '/metrics' }, as: 'prometheus', status: 200 },
  { name: 'auth: an unknown path with a token', request: { target: '/nope' }, status: 404, code: 'NotFound' },
  ...['/METRICS', '/Metrics', '/metrics/', '/metrics//', '/METRICS/'].map((target) => ({
    name: `auth: ${target} is /metrics to the router, so it needs the metrics scope too`,
    request: { target },
    status: 403,
    code: 'NotAllowed',
  })),
  ...['/HEALTHZ', '/healthz/', '/ReadyZ'].map((target) => ({
    name: `auth: ${target} is open like its route`,
    request: { target },
    as: null,
    status: 200,
  })),
  { name: 'method: DELETE /METRICS/', request: { method: 'DELETE', target: '/METRICS/' }, as: 'prometheus', status: 405, code: 'MethodNotAllowed' },
];

export const HOSTILE_CASES: HostileCase[] = [
  ...objectKeyCases,
  ...bucketCases,
  ...scopeCases,
  ...queryCases,
  ...rangeCases,
  ...headerCases,
  ...methodCases,
  ...bodyCases,
  ...authCases,
];

/**
 * POST /v1/downloads bodies, with the answer each must get once that route
 * exists (status, code, and never a file outside DOWNLOAD_ROOT). The
 * downloads route should take its body through `jsonBody` + `bodyOf` with a
 * `z.strictObject` whose `path` is `relativePath` (src/http/*): then these
 * rows pass as written. Until it lands they run against a probe route with
 * those pieces in test/unit/json-body.test.ts.
 */
export const DOWNLOAD_BODY_CASES: Array<{ name: string; body: string; contentType?: string; status: number; code: string }> = [
  ...HOSTILE_JSON.filter(([name]) => !['1 MiB string'].includes(name)).map(([name, body]) => ({
    name,
    body,
    status: 400,
    code: 'InvalidRequest',
  })),
  { name: 'too large', body: `{"bucket":"${'x'.repeat(20_000)}"}`, status: 413, code: 'InvalidRequest' },
  { name: 'form-encoded', body: 'bucket=demo-bucket', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'InvalidRequest' },
  { name: 'text/plain JSON', body: '{}', contentType: 'text/plain', status: 415, code: 'InvalidRequest' },
  { name: 'unknown field', body: '{"bucket":"demo-bucket","key":"k","path":"k","mode":"0777"}', status: 400, code: 'InvalidRequest' },
  { name: 'wrong type', body: '{"bucket":"demo-bucket","key":"k","path":"k","overwrite":"yes"}', status: 400, code: 'InvalidRequest' },
  { name: 'array body', body: '[{"bucket":"demo-bucket","key":"k","path":"k"}]', status: 400, code: 'InvalidRequest' },
  { name: 'null body', body: 'null', status: 400, code: 'InvalidRequest' },
  ...[
    ['absolute path', '/etc/cron.d/x'],
    ['traversal', '../../etc/passwd'],
    ['traversal inside', 'a/../../b'],
    ['encoded traversal stays literal but dot segments are refused', '..%2F..%2Fx'.replace(/%2F/g, '/')],
    ['backslash traversal', '..\\\\..\\\\x'],
    ['NUL', 'a\\u0000b'],
    ['newline', 'a\\nb'],
    ['empty', ''],
    ['only a dot', '.'],
    ['Windows drive', 'C:/x'],
    ['trailing slash', 'a/'],
    ['double slash', 'a//b'],
    ['over 1024 bytes', 'p'.repeat(1025)],
  ].map(([name, p]) => ({
    name: `path: ${name}`,
    body: `{"bucket":"demo-bucket","key":"k","path":"${p}"}`,
    status: 400,
    code: 'InvalidRequest',
  })),
];
