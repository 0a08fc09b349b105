import type { EventEmitter } from 'node:events';
import { abortableSleep } from './abortable-sleep';
import type { AccessPolicy } from './access-policy';
import { type AuthDeps, authenticate, type Caller, claimedIdentity } from './authenticate';
import { OssError } from './error-xml';
import type { Exchange } from './exchange';
import type { FaultInjector, FaultKind, HeaderFault } from './faults';
import { planObjectResponse } from './get-object';
import type { BucketLocations, WrongRegionAnswer } from './bucket-locations';
import { listObjectsV1, listObjectsV2, requestedPrefix } from './list-objects';
import { listObjectVersions } from './list-object-versions';
import type { Bucket, MemoryObjectStore, StoredObject } from './object-store-memory';
import { type OssRequest, parseOssRequest } from './parse-request';
import { sendBody } from './send-body';

/** Everything a request handler reads; owned by the emulator. */
export interface EmulatorState {
  store: MemoryObjectStore;
  policy: AccessPolicy;
  faults: FaultInjector;
  auth: AuthDeps;
  events: EventEmitter;
  /** Where buckets of other regions live (several emulators, one per region); absent: one region only. */
  locations?: BucketLocations;
  wrongRegionAnswer: WrongRegionAnswer;
}

/**
 * The request pipeline, in the order OSS applies it: addressing, injected
 * front-end faults, bucket, authentication, authorization, then the
 * operation (GetObject/HeadObject or a listing).
 */
export async function handleRequest(exchange: Exchange, state: EmulatorState): Promise<void> {
  let hostId = exchange.req.headers.host ?? '';
  try {
    const request = parseOssRequest(exchange.req);
    exchange.describe(request, claimedIdentity(request));
    state.events.emit('request-start', exchange.record);
    if (!(await applyHeaderFaults(exchange, state, state.faults.takeHeaderFaults(request.bucket, request.key)))) return;
    hostId = request.host;
    await serve(exchange, request, state);
  } catch (error) {
    if (exchange.res.headersSent) {
      exchange.cut();
      return;
    }
    exchange.sendError(error instanceof OssError ? error : internalError(error, state), hostId);
  }
}

async function serve(exchange: Exchange, request: OssRequest, state: EmulatorState): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') throw new OssError('MethodNotAllowed');
  if (request.bucket === '') throw new OssError('MethodNotAllowed', { message: 'ListBuckets is not emulated.' });
  const bucket = state.store.bucket(request.bucket);
  if (bucket === undefined) throw missingBucket(request.bucket, state);
  const caller = authenticate(request, state.auth);
  exchange.record.principal = caller.principal;
  if (request.key === '') return listBucket(exchange, request, bucket, caller, state);
  return getObject(exchange, request, bucket, caller, state);
}

function listBucket(exchange: Exchange, request: OssRequest, bucket: Bucket, caller: Caller, state: EmulatorState): void {
  const prefix = requestedPrefix(request.query);
  authorize(caller, bucket, (principal) => state.policy.canList(principal, bucket.name, prefix));
  if (request.query.versions !== undefined) {
    exchange.sendXml(200, listObjectVersions(bucket, request.query));
    return;
  }
  const listType = request.query['list-type'];
  if (listType !== undefined && listType !== '2') {
    throw new OssError('InvalidArgument', { message: 'Argument list-type is invalid.', details: [['ArgumentName', 'list-type']] });
  }
  exchange.sendXml(200, listType === '2' ? listObjectsV2(bucket, request.query) : listObjectsV1(bucket, request.query));
}

async function getObject(exchange: Exchange, request: OssRequest, bucket: Bucket, caller: Caller, state: EmulatorState): Promise<void> {
  authorize(caller, bucket, (principal) => state.policy.canRead(principal, bucket.name, request.key));
  const object = requestedVersion(bucket, request);
  const plan = planObjectResponse(request, object);
  exchange.writeHead(plan.status, object.versionId === undefined ? plan.headers : { ...plan.headers, 'x-oss-version-id': object.versionId });
  if (exchange.isHead || plan.span === undefined || plan.span.end < plan.span.start) {
    exchange.finishWith();
    return;
  }
  const faults = state.faults.takeBodyFaults(bucket.name, request.key);
  if (faults.bandwidth) noteFault(exchange, state, 'bandwidth');
  await sendBody(exchange.res, object.content, plan.span, faults, exchange.signal, {
    onBytes: (count) => {
      exchange.record.bytesSent += count;
    },
    onBackpressure: () => state.events.emit('backpressure', exchange.record),
    onFault: (kind) => {
      noteFault(exchange, state, kind);
      if (kind === 'drop-mid-body') exchange.cut();
    },
  });
}

/**
 * The object a GET or HEAD names: its current version, or `?versionId=`'s.
 * A delete marker on top is NoSuchKey (`x-oss-delete-marker: true`); a
 * delete marker asked for by id is 405, as it has no bytes to serve.
 */
function requestedVersion(bucket: Bucket, request: OssRequest): StoredObject {
  const versionId = request.query.versionId;
  const history = bucket.history.get(request.key);
  if (versionId === undefined) {
    const object = bucket.objects.get(request.key);
    if (object !== undefined) return object;
    const marker = history?.[0];
    const headers: Record<string, string> = marker ? { 'x-oss-delete-marker': 'true', 'x-oss-version-id': marker.versionId } : {};
    throw new OssError('NoSuchKey', { details: [['Key', request.key]], headers });
  }
  const entry = history?.find((e) => e.versionId === versionId);
  if (entry?.object) return entry.object;
  if (entry) {
    throw new OssError('MethodNotAllowed', {
      ec: '0017-00000002',
      headers: { 'x-oss-delete-marker': 'true', 'x-oss-version-id': versionId },
      details: [
        ['Method', request.method],
        ['ResourceType', 'DeleteMarker'],
      ],
    });
  }
  // An unversioned bucket has one version of each key, `null`.
  const unversioned = history === undefined && versionId === 'null' ? bucket.objects.get(request.key) : undefined;
  if (unversioned) return unversioned;
  throw new OssError('NoSuchVersion', {
    details: [
      ['Key', request.key],
      ['VersionId', versionId],
    ],
  });
}

/**
 * A bucket this endpoint does not hold: NoSuchBucket, unless another
 * region's endpoint holds it. Then OSS answers, before any signature check,
 * 403 AccessDenied naming the bucket's endpoint (or, older, 301 PermanentRedirect).
 */
function missingBucket(name: string, state: EmulatorState): OssError {
  const region = state.locations?.regionOf(name);
  if (region === undefined || region === state.auth.region) return new OssError('NoSuchBucket', { details: [['BucketName', name]] });
  const details: Array<[string, string]> = [
    ['Bucket', name],
    ['Endpoint', `oss-${region}.aliyuncs.com`],
  ];
  if (state.wrongRegionAnswer === 'permanent-redirect') return new OssError('PermanentRedirect', { details });
  return new OssError('AccessDenied', {
    message:
      'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
    ec: '0003-00001403',
    details,
  });
}

/**
 * Anonymous callers get what the bucket ACL allows; signed callers get what
 * their principal's grants allow (or a public-read bucket).
 */
function authorize(caller: Caller, bucket: Bucket, granted: (principal: string) => boolean): void {
  if (bucket.acl === 'public-read') return;
  if (caller.principal === undefined) throw new OssError('AccessDenied');
  if (!granted(caller.principal)) {
    throw new OssError('AccessDenied', { message: 'You have no right to access this object.', ec: '0003-00000301' });
  }
}

/** Returns false when the request must go no further (reset, or the client left during latency). */
async function applyHeaderFaults(exchange: Exchange, state: EmulatorState, faults: HeaderFault[]): Promise<boolean> {
  for (const fault of faults) {
    noteFault(exchange, state, fault.kind);
    if (fault.kind === 'latency') {
      await abortableSleep(fault.ms, exchange.signal);
      if (exchange.signal.aborted) return false;
    } else if (fault.kind === 'status') {
      throw new OssError(fault.code, { status: fault.status });
    } else {
      exchange.cut();
      return false;
    }
  }
  return true;
}

function noteFault(exchange: Exchange, state: EmulatorState, kind: FaultKind): void {
  exchange.record.faults.push(kind);
  state.events.emit('fault', exchange.record, kind);
}

/** A bug in the emulator: answer like OSS would, and make it loud. */
function internalError(error: unknown, state: EmulatorState): OssError {
  if (state.events.listenerCount('emulator-error') > 0) state.events.emit('emulator-error', error);
  else console.error('oss-emulator: internal error', error);
  return new OssError('InternalError');
}
