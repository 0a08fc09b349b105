import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { AliOssStore, type AliOssStoreOptions } from '../../src/oss/ali-oss-store';
import type { ObjectStore } from '../../src/oss/object-store';
import { encodeVersionCursor } from '../../src/oss/version-listing';
import type { CredentialStatus, CredentialsProvider, StsCredentials } from '../../src/credentials/credential-provider-wrapper';

/**
 * The bytes the store puts on the wire, request by request, against what the
 * ali-oss/urllib path sent before the undici transport replaced it. The
 * fixture (oss-wire-parity.json) was recorded from that path (commit
 * "Wire-parity test: ..."), with the clock frozen so dates and signatures are
 * the same on every run; other OSS implementations accept those requests, so
 * any difference here is a risk. WIRE_PARITY_RECORD=1 rewrites the fixture
 * from today's store: only for a change of the wire made on purpose.
 */

const FIXTURE = path.join(__dirname, 'oss-wire-parity.json');
const NOW = new Date('2026-12-03T07:30:00.000Z');
/** Every key character ali-oss escapes in its own way: unicode, %, +, space, ?, #. */
const AWKWARD_KEY = 'dir/ünï cødé 100%+a?b#c&d=e.txt';

interface Captured {
  method: string;
  url: string;
  headers: [string, string][];
}

interface Case {
  name: string;
  signatureVersion: 1 | 4;
  token: string;
  /** `ip`: http://127.0.0.1:PORT; `domain`: a host name, resolved to loopback. */
  endpoint: 'ip' | 'domain';
  run: (store: ObjectStore) => Promise<unknown>;
}

const conditionals = {
  ifMatch: '"0123456789abcdef"',
  ifNoneMatch: '"fedcba9876543210"',
  ifModifiedSince: 'Tue, 01 Dec 2026 00:00:00 GMT',
  ifUnmodifiedSince: 'Wed, 02 Dec 2026 00:00:00 GMT',
};

const requests: Omit<Case, 'signatureVersion' | 'token' | 'endpoint'>[] = [
  { name: 'GET a plain key', run: (s) => s.getObject({ bucket: 'near-bucket', key: 'reports/2026.csv', preconditions: {} }) },
  { name: 'GET an awkward key', run: (s) => s.getObject({ bucket: 'near-bucket', key: AWKWARD_KEY, preconditions: {} }) },
  {
    name: 'GET a range of a version, with conditionals',
    run: (s) => s.getObject({ bucket: 'near-bucket', key: 'a/b.bin', range: 'bytes=0-99', preconditions: conditionals, versionId: 'CAEQNhiBgM+/=' }),
  },
  {
    name: 'HEAD a range of a version, with conditionals',
    run: (s) => s.headObject({ bucket: 'near-bucket', key: AWKWARD_KEY, range: 'bytes=-5', preconditions: conditionals, versionId: 'null' }),
  },
  { name: 'GET in a bucket of another region', run: (s) => s.getObject({ bucket: 'far-bucket', key: 'x.json', preconditions: {} }) },
  { name: 'list with an empty prefix', run: (s) => s.listObjects({ bucket: 'near-bucket', prefix: '', limit: 1000 }) },
  {
    name: 'list with prefix, delimiter and cursor',
    run: (s) => s.listObjects({ bucket: 'near-bucket', prefix: 'dir/ü n+%', delimiter: '/', limit: 10, cursor: 'tok+en/=?&#' }),
  },
  { name: 'list versions with an empty prefix', run: (s) => s.listObjectVersions({ bucket: 'near-bucket', prefix: '', limit: 1000 }) },
  {
    name: 'list versions with prefix and cursor',
    run: (s) =>
      s.listObjectVersions({
        bucket: 'far-bucket',
        prefix: 'p q/',
        limit: 5,
        cursor: encodeVersionCursor({ keyMarker: 'p q/ü+%.txt', versionIdMarker: 'CAEQ+/=' }),
      }),
  },
];

const cases: Case[] = [1, 4].flatMap((signatureVersion) =>
  (['ip', 'domain'] as const).flatMap((endpoint) =>
    requests.map((r) => ({
      ...r,
      name: `V${signatureVersion} ${endpoint}: ${r.name}`,
      signatureVersion: signatureVersion as 1 | 4,
      token: 'sts-token-1',
      endpoint,
    })),
  ),
);
cases.push({ ...requests[2], name: 'V4 ip, no token: GET a range of a version', signatureVersion: 4, token: '', endpoint: 'ip' });
cases.push({ ...requests[2], name: 'V1 ip, no token: GET a range of a version', signatureVersion: 1, token: '', endpoint: 'ip' });

class FixedCredentials implements CredentialsProvider {
  constructor(private readonly token: string) {}
  async getCredentials(): Promise<StsCredentials> {
    return { accessKeyId: 'STS.parity', accessKeySecret: 'parity-secret', securityToken: this.token, expiresAt: null };
  }
  async refreshAfterRejection(): Promise<StsCredentials | null> {
    return null;
  }
  status(): CredentialStatus {
    return { source: 'fixed', valid: true, expiresAt: null };
  }
}

/** Answers each request with the least OSS would send back, and records it. */
function startCapture(): Promise<{ server: http.Server; port: number; captured: Captured[] }> {
  const captured: Captured[] = [];
  const server = http.createServer((req, res) => {
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
    captured.push({ method: req.method!, url: req.url!, headers });
    req.resume();
    const listing = req.url!.includes('list-type=2')
      ? '<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>'
      : '<ListVersionsResult><IsTruncated>false</IsTruncated></ListVersionsResult>';
    const body = req.url!.startsWith('/?') ? listing : 'ok';
    res.writeHead(200, { 'Content-Length': Buffer.byteLength(body), 'Content-Type': req.url!.startsWith('/?') ? 'application/xml' : 'text/plain' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, captured })));
}

/** Port and platform out: what is left must match on any machine. */
function normalise(request: Captured, port: number): Captured {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers
      .map(([name, value]): [string, string] => [
        name,
        value.replaceAll(`:${port}`, ':PORT').replace(/^(aliyun-sdk-nodejs\/[\d.]+) .*$/, '$1 PLATFORM'),
      ])
      .sort(([a], [b]) => a.localeCompare(b)),
  };
}

function storeOptions(c: Case, port: number): AliOssStoreOptions {
  const host = (region: string) => (c.endpoint === 'ip' ? `http://127.0.0.1:${port}` : `http://oss-${region}.aliyuncs.com:${port}`);
  return {
    credentials: new FixedCredentials(c.token),
    region: 'cn-beijing',
    endpoint: host('cn-beijing'),
    bucketRegions: { 'far-bucket': { region: 'cn-shanghai', endpoint: host('cn-shanghai') } },
    signatureVersion: c.signatureVersion,
    requestTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    // Every host name is this machine: the domain cases keep their Host and virtual-host addressing.
    lookup: (_host, options, callback) => (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)),
  };
}

describe('the requests the OSS store sends', () => {
  let capture: Awaited<ReturnType<typeof startCapture>>;
  const record = process.env.WIRE_PARITY_RECORD === '1';
  const recorded: Record<string, Captured> = {};
  const expected: Record<string, Captured> = record ? {} : (JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Captured>);

  beforeAll(async () => {
    capture = await startCapture();
    // Only Date: the sockets and timers run for real.
    jest.useFakeTimers({
      now: NOW,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
  });
  afterAll(async () => {
    jest.useRealTimers();
    capture.server.closeAllConnections();
    await new Promise((resolve) => capture.server.close(resolve));
    if (record) writeFileSync(FIXTURE, `${JSON.stringify(recorded, null, 2)}\n`);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: same method, path, query and headers as ali-oss sent', async (name, c) => {
    const store = new AliOssStore(storeOptions(c, capture.port));
    capture.captured.length = 0;
    try {
      await c.run(store);
    } finally {
      await store.close();
    }

    expect(capture.captured).toHaveLength(1);
    const sent = normalise(capture.captured[0], capture.port);
    if (record) recorded[name] = sent;
    else expect(sent).toEqual(expected[name]);
  });
});
