import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from './clock';
import { crc64Choice } from './crc64-choice';
import type { CredentialsProvider } from './credentials/credential-provider-wrapper';

/**
 * Prometheus metrics, on a registry of the app's own (tests build many apps in
 * one process). Labels never carry keys, tokens or object names.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to the end of the response.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly httpTimeToFirstByte = new Histogram({
    name: 'http_time_to_first_byte_seconds',
    help: 'Time from request to the response headers (for objects: until OSS answered).',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly bytesStreamed = new Counter({
    name: 'object_bytes_streamed_total',
    help: 'Object bytes sent to callers.',
    registers: [this.registry],
  });

  readonly streamsInFlight = new Gauge({
    name: 'object_streams_in_flight',
    help: 'Object bodies being streamed right now.',
    registers: [this.registry],
  });

  readonly streamOutcomes = new Counter({
    name: 'object_streams_total',
    help: 'Object streams by how they ended: complete, client_aborted, upstream_failed, crc_mismatch.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly crc64Mismatches = new Counter({
    name: 'object_crc64_mismatches_total',
    help: 'Whole-object streams whose bytes did not match x-oss-hash-crc64ecma (the transfer was broken off).',
    registers: [this.registry],
  });

  readonly upstreamResponses = new Counter({
    name: 'oss_responses_total',
    help: 'Answers from OSS, by HTTP status and OSS error code (empty on success; status 0: no answer, code ConnectionFailed or Timeout).',
    labelNames: ['status', 'code'] as const,
    registers: [this.registry],
  });

  readonly credentialRefreshes = new Counter({
    name: 'credential_refreshes_total',
    help: 'Credential refresh attempts, by outcome (refreshed, failed).',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly downloadBytes = new Counter({
    name: 'download_bytes_total',
    help: 'Object bytes written to local disk by download jobs.',
    registers: [this.registry],
  });

  readonly downloadPartRetries = new Counter({
    name: 'download_part_retries_total',
    help: 'Ranged parts fetched again after a failure.',
    registers: [this.registry],
  });

  readonly downloadCrcFailures = new Counter({
    name: 'download_crc_failures_total',
    help: 'Downloads whose bytes did not match the CRC64 OSS reported.',
    registers: [this.registry],
  });

  readonly downloadJobs = new Counter({
    name: 'download_jobs_total',
    help: 'Download jobs ended, by state (succeeded, failed, canceled).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly downloadDuration = new Histogram({
    name: 'download_job_duration_seconds',
    help: 'Time from a job starting to run to its end.',
    labelNames: ['state'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14_400],
    registers: [this.registry],
  });

  readonly downloadsActive = new Gauge({
    name: 'download_jobs_running',
    help: 'Download jobs running right now (queued ones excluded).',
    registers: [this.registry],
  });

  readonly credentialEndpointRequests = new Counter({
    name: 'credential_endpoint_requests_total',
    help: 'HTTP requests the credentials library sent to its endpoint (ECS metadata service, STS or credentials URI), by source and method.',
    labelNames: ['source', 'method'] as const,
    registers: [this.registry],
  });

  readonly crc64Implementation = new Gauge({
    name: 'crc64_implementation',
    help: 'The CRC-64 implementation this process runs: 1 for liblzma (koffi FFI) or js (the TypeScript fallback).',
    labelNames: ['impl'] as const,
    registers: [this.registry],
  });

  readonly callerRequests = new Counter({
    name: 'caller_requests_total',
    help: 'Requests by caller (token name, anonymous on open paths, open without authentication, rejected for a missing or bad token).',
    labelNames: ['caller'] as const,
    registers: [this.registry],
  });

  readonly slowClientsDisconnected = new Counter({
    name: 'slow_clients_disconnected_total',
    help: 'Callers disconnected for reading nothing for CLIENT_STALL_TIMEOUT_SECONDS.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.crc64Implementation.set({ impl: crc64Choice.impl }, 1);
  }

  /** For the object streams: body bytes as they go to the caller (one function, not a closure per stream). */
  readonly countStreamedBytes = (n: number): void => {
    this.bytesStreamed.inc(n);
  };

  /** object_streams_total{outcome}. */
  readonly countStreamOutcome = countByLabel(this.streamOutcomes, 'outcome');

  /** caller_requests_total{caller}: the token file's names and three fixed words (token-file.ts). */
  readonly countCaller = countByLabel(this.callerRequests, 'caller');

  readonly countSlowClientDisconnected = (): void => {
    this.slowClientsDisconnected.inc();
  };

  /** For AliOssStore's onUpstreamResponse. */
  readonly wrongRegion = new Counter({
    name: 'oss_wrong_region_total',
    help: 'OSS answers saying the bucket lives in another region than the one it was sent to: map it in OSS_BUCKET_REGIONS.',
    labelNames: ['bucket'] as const,
    registers: [this.registry],
  });

  readonly countWrongRegion = (bucket: string): void => {
    this.wrongRegion.inc({ bucket });
  };

  readonly countUpstreamResponse = (event: { status: number; code?: string }): void => {
    this.upstreamResponses.inc({ status: String(event.status), code: event.code ?? '' });
  };

  /** Gauges read from the provider at scrape time. */
  observeCredentials(credentials: CredentialsProvider, clock: Clock = systemClock): void {
    new Gauge({
      name: 'credential_valid',
      help: '1 while a credential that may be handed out is in hand.',
      labelNames: ['source'] as const,
      registers: [this.registry],
      collect() {
        const s = credentials.status();
        this.reset();
        this.set({ source: s.source }, s.valid ? 1 : 0);
      },
    });
    new Gauge({
      name: 'credential_expiry_timestamp_seconds',
      help: 'When the credential in hand expires (absent for credentials that never expire).',
      registers: [this.registry],
      collect() {
        const { expiresAt } = credentials.status();
        this.reset();
        if (expiresAt !== null) this.set(expiresAt / 1000);
      },
    });
    new Gauge({
      name: 'credential_seconds_to_expiry',
      help: 'Seconds until the credential in hand expires (negative once it has; absent for credentials that never expire).',
      registers: [this.registry],
      collect() {
        const { expiresAt } = credentials.status();
        this.reset();
        if (expiresAt !== null) this.set((expiresAt - clock.now()) / 1000);
      },
    });
  }
}

/** Counts by one label, each label child bound on first use: `labels()` on every request costs a lookup and an object. */
function countByLabel<L extends string>(counter: Counter<L>, label: L): (value: string) => void {
  const series = new Map<string, { inc(): void }>();
  return (value) => {
    let child = series.get(value);
    if (child === undefined) {
      child = counter.labels({ [label]: value } as Partial<Record<L, string>>);
      series.set(value, child);
    }
    child.inc();
  };
}
