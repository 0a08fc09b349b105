import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../src/clock';
import type { IssuedCredential, StsRegistry } from '../sts-registry';
import { MetadataCounters, type MetadataCallCounts, type MetadataRequestRecord } from './metadata-counters';
import { MetadataFaults, type OutageMode } from './metadata-faults';
import { answerMetadataRequest, routeOf, type MetadataAnswer, type MetadataRequest, type MetadataState } from './metadata-routes';
import { MetadataTokens, TOKEN_HEADER } from './metadata-tokens';
import { RoleCredentials } from './role-credentials';

export type { OutageMode } from './metadata-faults';
export type { MetadataCallCounts, MetadataRequestRecord } from './metadata-counters';

export const DEFAULT_ROLE_NAME = 'oss-download-role';
const HOUR_MS = 60 * 60 * 1000;

export interface MetadataEmulatorOptions {
  /** Where role credentials are issued; the OSS emulator checks signatures against the same registry. */
  sts: StsRegistry;
  /** Token and credential expiry. Latency and 'hang' use real time. */
  clock?: Clock;
  /** The attached instance RAM role; null for an instance without one. Default 'oss-download-role'. */
  roleName?: string | null;
  /** Refuse reads without a token (HttpTokens=required). Default true. */
  hardenedOnly?: boolean;
  /** Lifetime of each role credential. Default 6 h. */
  credentialTtlMs?: number;
  /** Issue a new credential once less than this is left on the current one. Default 1 h. */
  rotateBeforeMs?: number;
}

/**
 * The ECS instance metadata service (IMDS) for tests, benchmarks and the demo: hardened-mode
 * tokens, role discovery, the role's rotating STS credential, outages, slowness and counters.
 * It also serves the same credential in the `credentials_uri` form at /v1/credentials, because
 * 100.100.100.200 exists only on ECS (or in a test's private network namespace).
 */
export class MetadataEmulator {
  private readonly server: Server;
  private readonly clock: Clock;
  private readonly tokens: MetadataTokens;
  private readonly credentials: RoleCredentials;
  private readonly faults = new MetadataFaults();
  private readonly counters = new MetadataCounters();
  private role: string | null;
  private hardenedOnly: boolean;
  private origin: string | undefined;

  constructor(options: MetadataEmulatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.role = options.roleName === undefined ? DEFAULT_ROLE_NAME : options.roleName;
    this.hardenedOnly = options.hardenedOnly ?? true;
    this.tokens = new MetadataTokens(this.clock);
    this.credentials = new RoleCredentials(options.sts, this.clock, rotationPolicy(options));
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.faults.watch(this.server);
  }

  /** Resolves with the bound port (pass 0 for any free one). */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const bound = (this.server.address() as AddressInfo).port;
        this.origin = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
        resolve(bound);
      });
    });
  }

  /** Stops listening and destroys every socket, held and keep-alive ones included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.faults.shutdown();
    });
  }

  /** An absolute URL on this emulator, e.g. url('/v1/credentials') for CREDENTIALS_SOURCE=credentials_uri. */
  url(path = '/'): string {
    if (this.origin === undefined) throw new Error('the metadata emulator is not listening');
    return `${this.origin}${path}`;
  }

  get calls(): MetadataCallCounts {
    return this.counters.calls;
  }

  get requests(): readonly MetadataRequestRecord[] {
    return this.counters.requests;
  }

  get events(): MetadataCounters['events'] {
    return this.counters.events;
  }

  resetCounters(): void {
    this.counters.reset();
  }

  setOutage(mode: OutageMode): void {
    this.faults.setOutage(mode);
  }

  setLatency(ms: number): void {
    this.faults.setLatency(ms);
  }

  setRole(name: string | null): void {
    this.role = name;
  }

  setHardenedOnly(on: boolean): void {
    this.hardenedOnly = on;
  }

  /** The credential last handed out for the current role (undefined before the first read). */
  current(): IssuedCredential | undefined {
    return this.role === null ? undefined : this.credentials.peek(this.role)?.credential;
  }

  /** Issues a new credential for the current role now; the previous one stays valid until it expires. */
  rotate(): IssuedCredential | undefined {
    return this.role === null ? undefined : this.credentials.rotate(this.role).credential;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const request: MetadataRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0],
      headers: req.headers,
    };
    this.counters.arrived(routeOf(request.path));
    this.faults.admit(req.socket, {
      answer: () => this.respond(request, res, answerMetadataRequest(request, this.state())),
      fail: () => this.respond(request, res, { status: 500, contentType: 'text/plain', body: '500 - Internal Server Error' }),
      held: () => this.counters.held(request.method, request.path),
    });
  }

  private state(): MetadataState {
    return { tokens: this.tokens, credentials: this.credentials, role: this.role, hardenedOnly: this.hardenedOnly };
  }

  private respond(request: MetadataRequest, res: ServerResponse, answer: MetadataAnswer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(answer.status, {
      ...answer.headers,
      'Content-Type': answer.contentType,
      'Content-Length': Buffer.byteLength(answer.body),
    });
    res.end(answer.body);
    this.counters.answered({
      method: request.method,
      path: request.path,
      hadToken: request.headers[TOKEN_HEADER] !== undefined,
      status: answer.status,
    });
  }
}

export function createMetadataEmulator(options: MetadataEmulatorOptions): MetadataEmulator {
  return new MetadataEmulator(options);
}

function rotationPolicy(options: MetadataEmulatorOptions): { ttlMs: number; rotateBeforeMs: number } {
  const ttlMs = options.credentialTtlMs ?? 6 * HOUR_MS;
  const rotateBeforeMs = options.rotateBeforeMs ?? HOUR_MS;
  // Otherwise every read would rotate: a misconfigured test, not an emulated behaviour.
  if (!(ttlMs > 0) || !(rotateBeforeMs >= 0) || rotateBeforeMs >= ttlMs) {
    throw new RangeError(`need credentialTtlMs > rotateBeforeMs >= 0, got ${ttlMs} and ${rotateBeforeMs}`);
  }
  return { ttlMs, rotateBeforeMs };
}
