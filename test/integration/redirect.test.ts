import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { attachmentHeader } from '../../src/http/object-headers';
import { BUCKET, get, startStack, type Stack } from '../support/stack';

const run = promisify(execFile);
const KEY = 'reports/2026/q4 résumé+final.bin';
const PATH = `/v1/objects/${BUCKET}/${KEY.split('/').map(encodeURIComponent).join('/')}`;

const ossCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];

/** A GET of `path` exactly as written: a URL parser would resolve `..` and `%2e%2e` before sending. */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; location?: string; code?: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, code: JSON.parse(Buffer.concat(chunks).toString()).code }),
        );
      })
      .on('error', reject);
  });
}

/** When OSS stops accepting a presigned URL, from its own query (V4: x-oss-date + x-oss-expires; V1: Expires). */
function urlExpiresAt(url: string): number {
  const q = new URL(url).searchParams;
  const v1 = q.get('Expires');
  if (v1 !== null) return Number(v1) * 1000;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('x-oss-date') ?? '');
  if (!m) throw new Error(`no expiry in ${url}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + Number(q.get('x-oss-expires')) * 1000;
}

/**
 * Redirect mode on the real stack: the app signs with the real ali-oss through the credential
 * wrapper, the OSS emulator verifies the presigned URL, and real clients (curl -L, fetch) follow it.
 */
describe.each([4, 1] as const)('GET /v1/objects/:bucket/*key?redirect=true (signature V%s)', (signatureVersion) => {
  let stack: Stack;
  let work: string;

  beforeAll(async () => {
    stack = await startStack({ signatureVersion, allow: `${BUCKET}/reports/`, delivery: { redirectExpiresSeconds: 120 } });
    stack.oss.putGeneratedObject(BUCKET, KEY, 3 * 1024 * 1024 + 7, 5, { contentType: 'application/octet-stream' });
    work = mkdtempSync(join(tmpdir(), 'redirect-test-'));
  });

  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await stack.close();
  });

  beforeEach(() => stack.oss.resetCounters());

  it('answers 307 with a presigned path-style URL for exactly that object, Cache-Control: no-store, and no body; OSS sees nothing yet', async () => {
    const res = await get(`${stack.baseUrl}${PATH}?redirect=true`);
    const location = new URL(String(res.headers.location));

    expect(res.status).toBe(307);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.length).toBe(0);
    expect(`${location.origin}${decodeURIComponent(location.pathname)}`).toBe(`${stack.oss.endpoint}/${BUCKET}/${KEY}`);
    expect(location.searchParams.get(signatureVersion === 4 ? 'x-oss-expires' : 'Expires')).toMatch(/^\d+$/);
    if (signatureVersion === 4) expect(location.searchParams.get('x-oss-expires')).toBe('120');
    expect(stack.oss.requests).toHaveLength(0);
  });

  it('is followed by curl -L to the object’s bytes, served by OSS straight to the client', async () => {
    const out = join(work, `curl-v${signatureVersion}.bin`);
    const { stdout } = await run('curl', [
      '-sS',
      '-L',
      '--max-time',
      '30',
      '-o',
      out,
      '-w',
      '%{http_code} %{num_redirects}',
      `${stack.baseUrl}${PATH}?redirect=true`,
    ]);

    expect(stdout).toBe('200 1');
    expect(readFileSync(out).equals(stack.oss.expectedBytes(BUCKET, KEY))).toBe(true);
    expect(stack.oss.requests.map((r) => [r.signatureVersion, r.status, r.principal])).toEqual([
      [`v${signatureVersion}-url`, 200, 'oss-download-role'],
    ]);
  });

  it('is followed by fetch, which sends its Range to OSS (ranges are the client’s business then)', async () => {
    const res = await fetch(`${stack.baseUrl}${PATH}?redirect=1`, { headers: { Range: 'bytes=10-19' } });
    const body = Buffer.from(await res.arrayBuffer());

    expect(res.redirected).toBe(true);
    expect(res.status).toBe(206);
    expect(body.equals(stack.oss.expectedBytes(BUCKET, KEY, 10, 19))).toBe(true);
  });

  it('signs ?download=1 and ?filename= into the URL as response-content-disposition', async () => {
    const download = await fetch(`${stack.baseUrl}${PATH}?redirect=true&download=1`);
    const named = await fetch(`${stack.baseUrl}${PATH}?redirect=true&filename=${encodeURIComponent('Q4 report.bin')}`);
    await Promise.all([download.arrayBuffer(), named.arrayBuffer()]);

    expect(download.status).toBe(200);
    // OSS answers with the header a proxied GET would send (attachmentHeader): the name survives the URL round trip.
    expect(download.headers.get('content-disposition')).toBe(attachmentHeader(KEY, undefined));
    expect(download.headers.get('content-disposition')).toContain(`filename*=UTF-8''q4%20r%C3%A9sum%C3%A9%2Bfinal.bin`);
    expect(named.headers.get('content-disposition')).toBe(attachmentHeader(KEY, 'Q4 report.bin'));
  });

  it('gives a URL that OSS refuses once it was tampered with (another key)', async () => {
    const res = await get(`${stack.baseUrl}${PATH}?redirect=true`);
    stack.oss.putObject(BUCKET, KEY.replace('2026', '2025'), 'last year');
    const tampered = await fetch(String(res.headers.location).replace('/reports/2026/', '/reports/2025/'));

    expect([tampered.status, ossCode(await tampered.text())]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('signs with the triple the credential wrapper hands out at that moment', async () => {
    const before = await stack.credentials.getCredentials();
    stack.metadata.rotate();
    const after = await stack.credentials.refreshAfterRejection(before);
    const res = await get(`${stack.baseUrl}${PATH}?redirect=true`);
    const location = new URL(String(res.headers.location));
    const followed = await fetch(location);
    await followed.arrayBuffer();

    expect(after?.accessKeyId).not.toBe(before.accessKeyId);
    const keyId = signatureVersion === 4 ? location.searchParams.get('x-oss-credential')?.split('/')[0] : location.searchParams.get('OSSAccessKeyId');
    expect(keyId).toBe(after?.accessKeyId);
    expect(followed.status).toBe(200);
  });

  it('never hands out a URL for a refused request: OSS_ALLOW, a dot segment, a bad flag', async () => {
    stack.oss.putObject(BUCKET, 'private/plan.txt', 'not served here');
    const refused = await Promise.all(
      [
        `/v1/objects/${BUCKET}/private/plan.txt?redirect=true`,
        `/v1/objects/${BUCKET}/reports/../private/plan.txt?redirect=true`,
        `/v1/objects/${BUCKET}/reports/%2e%2e/private/plan.txt?redirect=true`,
        `/v1/objects/${BUCKET}/reports/./x.bin?redirect=true`,
        `${PATH}?redirect=yes`,
      ].map((path) => rawGet(stack.baseUrl, path)),
    );

    expect(refused).toEqual([
      { status: 403, code: 'NotAllowed', location: undefined },
      { status: 400, code: 'InvalidRequest', location: undefined },
      { status: 400, code: 'InvalidRequest', location: undefined },
      { status: 400, code: 'InvalidRequest', location: undefined },
      { status: 400, code: 'InvalidRequest', location: undefined },
    ]);
    expect(stack.oss.requests).toHaveLength(0);
  });

  it('writes no URL, signature or STS token into the service log', async () => {
    const res = await get(`${stack.baseUrl}${PATH}?redirect=true`);
    const location = new URL(String(res.headers.location));
    const secrets = [...location.searchParams.values()].filter((v) => v.length > 20);

    expect(secrets.length).toBeGreaterThanOrEqual(2); // the signature and the STS token at least
    const leaked = stack.logs.filter((line) => secrets.some((secret) => line.includes(secret)));
    expect(leaked).toEqual([]);
  });
});

describe.each([4, 1] as const)('a presigned URL after REDIRECT_EXPIRES_SECONDS (signature V%s)', (signatureVersion) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ signatureVersion, delivery: { redirectExpiresSeconds: 60 } });
    stack.oss.putObject(BUCKET, 'hello.txt', 'hello, redirect\n');
  });

  afterAll(() => stack.close());

  it('is served until it expires and refused by OSS from then on (AccessDenied)', async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/hello.txt?redirect=true`);
    const url = String(res.headers.location);
    const expiresAt = urlExpiresAt(url);
    stack.clock.set(expiresAt - 1000);
    const justBefore = await fetch(url);
    stack.clock.set(expiresAt + 1000);
    const after = await fetch(url);

    // V4 dates the URL to the second below; V1 adds the lifetime to the nearest second (ali-oss's Math.round).
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(signatureVersion === 4 ? 60_000 : 60_500);
    expect([justBefore.status, await justBefore.text()]).toEqual([200, 'hello, redirect\n']);
    const body = await after.text();
    expect([after.status, ossCode(body)]).toEqual([403, 'AccessDenied']);
    expect(body).toContain('Request has expired.');
  });
});

describe('OBJECT_DELIVERY=redirect', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ delivery: { objectDelivery: 'redirect' } });
    stack.oss.putObject(BUCKET, 'hello.txt', 'hello, redirect\n');
  });

  afterAll(() => stack.close());

  it('redirects a plain GET, streams with ?redirect=false, and answers HEAD itself', async () => {
    const plain = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/hello.txt`);
    const proxied = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/hello.txt?redirect=false`);
    const head = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/hello.txt`, {}, 'HEAD');
    const followed = await fetch(String(plain.headers.location));

    expect(plain.status).toBe(307);
    expect(new URL(String(plain.headers.location)).searchParams.get('x-oss-expires')).toBe('300'); // REDIRECT_EXPIRES_SECONDS' default
    expect(await followed.text()).toBe('hello, redirect\n');
    expect([proxied.status, proxied.body.toString(), proxied.headers.location]).toEqual([200, 'hello, redirect\n', undefined]);
    expect([head.status, head.headers['content-length'], head.headers.location]).toEqual([200, '16', undefined]);
  });
});

describe('OSS_PUBLIC_ENDPOINT', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ delivery: { publicEndpoint: 'https://oss-cn-hangzhou.aliyuncs.com' } });
  });

  afterAll(() => stack.close());

  it('puts the URL on the endpoint clients reach, the bucket in the host name (virtual-host style)', async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/hello.txt?redirect=true`);

    expect(res.status).toBe(307);
    expect(String(res.headers.location).startsWith(`https://${BUCKET}.oss-cn-hangzhou.aliyuncs.com/hello.txt?`)).toBe(true);
  });
});
