/**
 * Netns scenario (run by runInNetns, never by jest directly): the built service, started as
 * `node dist/src/server.js` with environment variables only, reads its credential through the
 * real, unmodified @alicloud/credentials ECS RAM role provider from the metadata emulator on
 * 100.100.100.200:80 (hardened-only) and streams objects from the OSS emulator on 127.0.0.1.
 * Both emulators share one StsRegistry, so the OSS emulator accepts exactly what IMDS issued.
 *
 * One phase per run (argv[2]), each with fresh emulators and a fresh service:
 *   serves         GET, ranged GET and HEAD with the role named by ALIBABA_CLOUD_ECS_METADATA
 *   discovery      the same service without it: the library discovers the role
 *   cold-start     200 concurrent GETs while the start-up credential fetch is still in flight
 *   outage         the metadata service goes down while a valid credential is cached
 *   no-credential  it is down from the start, then comes back
 * Every phase ends with SIGTERM and scans the service's output for every issued secret.
 * Prints one result line; never prints a secret (comparisons happen here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatTokenLine } from '../../../src/auth/token-file';
import { generateToken, hashToken } from '../../../src/auth/tokens';
import { systemClock } from '../../../src/clock';
import {
  createMetadataEmulator,
  type MetadataCallCounts,
  type MetadataEmulator,
  type MetadataRequestRecord,
} from '../../../emulators/metadata/metadata-emulator';
import { routeOf } from '../../../emulators/metadata/metadata-routes';
import { createOssEmulator, type OssEmulator, type RecordedRequest } from '../../../emulators/oss/oss-emulator';
import type { IssuedCredential } from '../../../emulators/sts-registry';
import { StsRegistry } from '../../../emulators/sts-registry';
import { httpRequest, sendRequest, type HttpAnswer } from '../../support/http-request';
import { ECS_METADATA_HOST, printNetnsResult } from '../../support/netns';
import { assertPrivateNamespace } from '../../support/private-namespace';
import { killAllServices, startService, type ServiceExit, type ServiceProcess } from '../../support/service-process';

export const ROLE = 'oss-download-role';
export const BUCKET = 'netns-bucket';
export const KEY = 'reports/2024/q1 summary.txt';
/** The key as a client puts it in the path: percent-encoded once. */
const KEY_PATH = 'reports/2024/q1%20summary.txt';
const OBJECT_PATH = `/v1/objects/${BUCKET}/${KEY_PATH}`;
/** 4 KiB of bytes that differ from position to position, so a wrong range shows. */
const BODY = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff));
/** Stored as OSS has it; the service must pass it on unchanged. */
const CONTENT_TYPE = 'text/plain';

export const COLD_START_REQUESTS = 200;
/**
 * Per metadata answer: the start-up fetch (token PUT, then the credential) takes twice this.
 * Well under a second: the library gives up on a metadata answer after 1 s of silence (its
 * connect timeout is also the socket's idle timeout), and a loaded machine needs the margin.
 */
export const COLD_START_METADATA_LATENCY_MS = 300;
export const OUTAGE_REQUESTS = 50;
export const READYZ_POLLS = 40;
const READYZ_POLL_INTERVAL_MS = 250;
const PINO_WARN = 40;

/** The service runs as in production, with caller authentication: one token that may read BUCKET. */
const CALLER_TOKEN = generateToken();
const AUTH = { Authorization: `Bearer ${CALLER_TOKEN}` };
let tokensFile: string | undefined;
function writeTokensFile(): string {
  if (tokensFile) return tokensFile;
  const dir = mkdtempSync(path.join(tmpdir(), 'netns-tokens-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  tokensFile = path.join(dir, 'tokens');
  writeFileSync(tokensFile, `${formatTokenLine('netns-scenario', hashToken(CALLER_TOKEN), [`read=${BUCKET}`])}\n`);
  return tokensFile;
}

export const PHASES = ['serves', 'discovery', 'cold-start', 'outage', 'no-credential'] as const;
export type Phase = (typeof PHASES)[number];

/** What every phase reports about the service process itself. */
export interface ServiceRunReport {
  readonly exit: ServiceExit;
  readonly loggedStopped: boolean;
  readonly logLineCount: number;
  /** Issued credentials whose parts were looked for in the output. */
  readonly credentialsScanned: number;
  /** `accessKeyId`, `accessKeySecret` or `securityToken` for each issued secret found in the output (never the secret). */
  readonly leaks: readonly string[];
  /** Its distinct warn and error lines, reduced to fields that carry no secret, with how often each came: for failure messages. */
  readonly warnings: readonly { count: number; level: unknown; msg: unknown; reason?: unknown; statusCode?: unknown }[];
}

/** One request as the OSS emulator saw it, with the credential compared here. */
export interface OssRequestReport {
  readonly method: string;
  readonly key: string;
  readonly status: number;
  readonly signatureVersion: string;
  readonly principal: string | undefined;
  /** AccessKeyId and x-oss-security-token are the ones the metadata emulator issued last. */
  readonly signedWithIssued: boolean;
  readonly range: string | undefined;
  readonly rangeBehavior: string | undefined;
}

export interface MetadataReport {
  readonly calls: MetadataCallCounts;
  readonly requests: readonly { method: string; path: string; hadToken: boolean; status: number }[];
}

export interface ObjectAnswerReport {
  readonly status: number;
  readonly bodyMatches: boolean;
  readonly bodyLength: number;
  readonly contentLength: string | undefined;
  readonly contentRange: string | undefined;
  readonly contentType: string | undefined;
  readonly etag: string | undefined;
}

export interface ServesResult {
  readonly phase: 'serves';
  readonly expected: { size: number; etag: string; contentType: string };
  readonly whole: ObjectAnswerReport;
  readonly range: ObjectAnswerReport;
  readonly head: ObjectAnswerReport;
  readonly issuedAccessKeyId: string | undefined;
  readonly oss: readonly OssRequestReport[];
  readonly metadata: MetadataReport;
  readonly run: ServiceRunReport;
}

export interface DiscoveryResult {
  readonly phase: 'discovery';
  readonly whole: ObjectAnswerReport;
  readonly oss: readonly OssRequestReport[];
  readonly metadata: MetadataReport;
  readonly run: ServiceRunReport;
}

export interface ColdStartResult {
  readonly phase: 'cold-start';
  readonly statuses: Record<string, number>;
  readonly bodiesMatching: number;
  /** Every request was on the socket before the metadata emulator answered the credential read. */
  readonly burstWrittenBeforeCredentialAnswer: boolean;
  readonly ossRequests: number;
  readonly ossSignedWithIssued: number;
  readonly metadata: MetadataReport;
  readonly run: ServiceRunReport;
}

export interface OutageResult {
  readonly phase: 'outage';
  readonly before: ObjectAnswerReport;
  /** A connection to 100.100.100.200:80 failed while the outage was on: it really was down. */
  readonly metadataUnreachable: boolean;
  readonly statuses: Record<string, number>;
  readonly bodiesMatching: number;
  readonly readyz: { status: number; body: unknown };
  readonly ossSignedWithIssued: number;
  readonly run: ServiceRunReport;
}

export interface NoCredentialResult {
  readonly phase: 'no-credential';
  readonly duringOutage: {
    readonly get: { status: number; contentType: string | undefined; body: unknown };
    readonly readyz: { status: number; contentType: string | undefined; body: unknown };
  };
  readonly recovery: {
    /** /readyz polls until it answered 200 (or READYZ_POLLS when it never did). */
    readonly polls: number;
    readonly readyzStatus: number;
    readonly get: ObjectAnswerReport;
  };
  readonly ossRequestsDuringOutage: number;
  readonly metadata: MetadataReport;
  readonly run: ServiceRunReport;
}

export type ServiceScenarioResult = ServesResult | DiscoveryResult | ColdStartResult | OutageResult | NoCredentialResult;

interface World {
  readonly sts: StsRegistry;
  readonly metadata: MetadataEmulator;
  readonly oss: OssEmulator;
  readonly etag: string;
}

async function main(phase: Phase): Promise<void> {
  assertPrivateNamespace();
  // @alicloud/credentials judges expiry by the wall clock, so the emulators use it too.
  const sts = new StsRegistry(systemClock);
  const metadata = createMetadataEmulator({ sts, roleName: ROLE, hardenedOnly: true });
  const oss = createOssEmulator({ sts, region: 'cn-hangzhou' });
  try {
    await metadata.listen(80, ECS_METADATA_HOST);
    await oss.listen(0, '127.0.0.1');
    oss.createBucket(BUCKET);
    oss.allow(ROLE, BUCKET);
    const { etag } = oss.putObject(BUCKET, KEY, BODY, { contentType: CONTENT_TYPE });
    printNetnsResult(await PHASE_RUNNERS[phase]({ sts, metadata, oss, etag }));
  } finally {
    killAllServices();
    await Promise.all([metadata.close(), oss.close()]);
  }
}

const PHASE_RUNNERS: Record<Phase, (world: World) => Promise<ServiceScenarioResult>> = {
  serves: runServes,
  discovery: runDiscovery,
  'cold-start': runColdStart,
  outage: runOutage,
  'no-credential': runNoCredential,
};

/**
 * Issue 2's "Done when", to the letter: OSS_REGION, OSS_ENDPOINT, OSS_ALLOW and
 * ALIBABA_CLOUD_ECS_METADATA (plus where to listen), nothing else: no tokens file, so the
 * service runs open and callers send no token.
 */
function contractEnv(world: World, options: { roleNamed: boolean }): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    OSS_REGION: 'cn-hangzhou',
    OSS_ENDPOINT: world.oss.endpoint,
    OSS_ALLOW: BUCKET,
    ...(options.roleNamed ? { ALIBABA_CLOUD_ECS_METADATA: ROLE } : {}),
  };
}

/** The environment an operator would set in production (tokens on): nothing else reaches the service. */
function serviceEnv(world: World, options: { roleNamed: boolean; extra?: Record<string, string> }): Record<string, string> {
  return {
    ...contractEnv(world, options),
    LOG_LEVEL: 'info',
    // Every phase ends with SIGTERM and nothing in flight: no grace period to wait out.
    SHUTDOWN_GRACE_SECONDS: '0',
    AUTH_TOKENS_FILE: writeTokensFile(),
    ...options.extra,
  };
}

async function runServes(world: World): Promise<ServesResult> {
  const service = await startService(contractEnv(world, { roleNamed: true }));
  const whole = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`);
  const range = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { headers: { Range: 'bytes=2-5' } });
  const head = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { method: 'HEAD' });
  const issued = world.metadata.current();
  return {
    phase: 'serves',
    expected: { size: BODY.length, etag: world.etag, contentType: CONTENT_TYPE },
    whole: objectAnswer(whole, BODY),
    range: objectAnswer(range, BODY.subarray(2, 6)),
    head: objectAnswer(head, Buffer.alloc(0)),
    issuedAccessKeyId: issued?.accessKeyId,
    oss: world.oss.requests.map((record) => ossRequestReport(record, issued)),
    metadata: metadataReport(world.metadata),
    run: await stopAndScan(service, world),
  };
}

async function runDiscovery(world: World): Promise<DiscoveryResult> {
  const service = await startService(serviceEnv(world, { roleNamed: false }));
  const whole = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { headers: AUTH });
  const issued = world.metadata.current();
  return {
    phase: 'discovery',
    whole: objectAnswer(whole, BODY),
    oss: world.oss.requests.map((record) => ossRequestReport(record, issued)),
    metadata: metadataReport(world.metadata),
    run: await stopAndScan(service, world),
  };
}

/**
 * The metadata service answers slowly, so the credential fetch server.ts starts right after
 * 'listening' is still in flight when the burst is on the wire: the burst must share it.
 */
async function runColdStart(world: World): Promise<ColdStartResult> {
  world.metadata.setLatency(COLD_START_METADATA_LATENCY_MS);
  let credentialAnsweredAt = Number.POSITIVE_INFINITY;
  world.metadata.events.on('request', (record: MetadataRequestRecord) => {
    if (routeOf(record.path) === 'credentials') {
      credentialAnsweredAt = Math.min(credentialAnsweredAt, performance.now());
    }
  });
  // The burst is one caller's: lift the per-token stream cap (a quarter of the process's 256 by
  // default) to the process cap, since this phase is about sharing the credential fetch, not fairness.
  const service = await startService(serviceEnv(world, { roleNamed: true, extra: { MAX_STREAMS_PER_TOKEN: '256' } }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  try {
    const burst = Array.from({ length: COLD_START_REQUESTS }, () =>
      sendRequest(`${service.baseUrl}${OBJECT_PATH}`, { agent, timeoutMs: 20_000, headers: AUTH }),
    );
    const writtenAt = await Promise.all(burst.map((request) => request.written));
    const answers = await Promise.all(burst.map((request) => request.answer));
    const issued = world.metadata.current();
    const oss = world.oss.requests.map((record) => ossRequestReport(record, issued));
    return {
      phase: 'cold-start',
      statuses: countBy(answers.map((answer) => String(answer.status))),
      bodiesMatching: answers.filter((answer) => answer.body.equals(BODY)).length,
      burstWrittenBeforeCredentialAnswer: writtenAt.every((at) => at < credentialAnsweredAt),
      ossRequests: oss.length,
      ossSignedWithIssued: oss.filter((record) => record.signedWithIssued).length,
      metadata: metadataReport(world.metadata),
      run: await stopAndScan(service, world),
    };
  } finally {
    agent.destroy();
  }
}

async function runOutage(world: World): Promise<OutageResult> {
  const service = await startService(serviceEnv(world, { roleNamed: true }));
  const before = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { headers: AUTH });
  const issued = world.metadata.current();
  world.metadata.setOutage('refuse');
  world.oss.resetCounters();
  const metadataUnreachable = await httpRequest(`http://${ECS_METADATA_HOST}/latest/api/token`, { timeoutMs: 2_000 }).then(
    () => false,
    () => true,
  );
  const answers = await Promise.all(
    Array.from({ length: OUTAGE_REQUESTS }, () => httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { headers: AUTH })),
  );
  const readyz = await httpRequest(`${service.baseUrl}/readyz`);
  return {
    phase: 'outage',
    before: objectAnswer(before, BODY),
    metadataUnreachable,
    statuses: countBy(answers.map((answer) => String(answer.status))),
    bodiesMatching: answers.filter((answer) => answer.body.equals(BODY)).length,
    readyz: { status: readyz.status, body: jsonOf(readyz) },
    ossSignedWithIssued: world.oss.requests.filter((record) => ossRequestReport(record, issued).signedWithIssued).length,
    run: await stopAndScan(service, world, [readyz]),
  };
}

async function runNoCredential(world: World): Promise<NoCredentialResult> {
  world.metadata.setOutage('refuse');
  const service = await startService(serviceEnv(world, { roleNamed: true, extra: { CREDENTIALS_RETRY_SECONDS: '1' } }));
  const get = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { headers: AUTH });
  const readyzDown = await httpRequest(`${service.baseUrl}/readyz`);
  const ossRequestsDuringOutage = world.oss.requests.length;

  world.metadata.setOutage('none');
  let polls = 0;
  let readyz: HttpAnswer | undefined;
  while (polls < READYZ_POLLS) {
    polls += 1;
    readyz = await httpRequest(`${service.baseUrl}/readyz`);
    if (readyz.status === 200) break;
    await sleep(READYZ_POLL_INTERVAL_MS);
  }
  const after = await httpRequest(`${service.baseUrl}${OBJECT_PATH}`, { headers: AUTH });
  return {
    phase: 'no-credential',
    duringOutage: {
      get: { status: get.status, contentType: get.headers['content-type'], body: jsonOf(get) },
      readyz: { status: readyzDown.status, contentType: readyzDown.headers['content-type'], body: jsonOf(readyzDown) },
    },
    recovery: { polls, readyzStatus: readyz?.status ?? 0, get: objectAnswer(after, BODY) },
    ossRequestsDuringOutage,
    metadata: metadataReport(world.metadata),
    run: await stopAndScan(service, world, [get, readyzDown, ...(readyz ? [readyz] : [])]),
  };
}

/** SIGTERM, then look for every issued secret in everything the service wrote (and in `answers`). */
async function stopAndScan(service: ServiceProcess, world: World, answers: readonly HttpAnswer[] = []): Promise<ServiceRunReport> {
  const exit = await service.stop('SIGTERM');
  const text = [service.output(), ...answers.map((answer) => answer.body.toString('utf8'))].join('\n');
  const issued = world.sts.all();
  const leaks: string[] = [];
  for (const credential of issued) {
    for (const part of ['accessKeyId', 'accessKeySecret', 'securityToken'] as const) {
      if (credential[part] !== '' && text.includes(credential[part])) leaks.push(part);
    }
  }
  if (text.includes(CALLER_TOKEN)) leaks.push('callerToken');
  const lines = service.logLines();
  return {
    exit,
    loggedStopped: lines.some((line) => line.msg === 'stopped'),
    logLineCount: lines.length,
    credentialsScanned: issued.length,
    leaks,
    warnings: distinctWarnings(lines),
  };
}

function distinctWarnings(lines: readonly Record<string, unknown>[]): ServiceRunReport['warnings'] {
  const counted = new Map<string, { count: number; level: unknown; msg: unknown; reason?: unknown; statusCode?: unknown }>();
  for (const line of lines) {
    if (typeof line.level !== 'number' || line.level < PINO_WARN) continue;
    const entry = {
      level: line.level,
      msg: line.msg,
      reason: line.reason,
      statusCode: (line.res as { statusCode?: unknown } | undefined)?.statusCode,
    };
    const key = JSON.stringify(entry);
    const seen = counted.get(key);
    if (seen) seen.count += 1;
    else counted.set(key, { count: 1, ...entry });
  }
  return [...counted.values()];
}

function objectAnswer(answer: HttpAnswer, expected: Buffer): ObjectAnswerReport {
  return {
    status: answer.status,
    bodyMatches: answer.body.equals(expected),
    bodyLength: answer.body.length,
    contentLength: answer.headers['content-length'],
    contentRange: answer.headers['content-range'],
    contentType: answer.headers['content-type'],
    etag: answer.headers.etag,
  };
}

function ossRequestReport(record: RecordedRequest, issued: IssuedCredential | undefined): OssRequestReport {
  return {
    method: record.method,
    key: record.key,
    status: record.status,
    signatureVersion: record.signatureVersion,
    principal: record.principal,
    signedWithIssued: issued !== undefined && record.accessKeyId === issued.accessKeyId && record.securityToken === issued.securityToken,
    range: record.headers.range,
    rangeBehavior: record.headers['x-oss-range-behavior'],
  };
}

function metadataReport(metadata: MetadataEmulator): MetadataReport {
  return { calls: { ...metadata.calls }, requests: metadata.requests.map((record) => ({ ...record })) };
}

function jsonOf(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return { unparsable: answer.body.toString('utf8').slice(0, 200) };
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

if (require.main === module) {
  const phase = process.argv[2] as Phase;
  const run = PHASES.includes(phase) ? main(phase) : Promise.reject(new Error(`phase must be one of ${PHASES.join(', ')}`));
  run.then(
    () => process.exit(0),
    (error: unknown) => {
      printNetnsResult({ error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
}
