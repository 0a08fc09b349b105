import type { Clock } from '../clock';
import { AppError } from '../errors';

/**
 * One STS triple and when it stops working. The three parts always come from
 * the same answer of the credential source: a triple mixed across a refresh
 * (new AccessKeyId, old SecurityToken) is refused by OSS.
 */
export interface StsCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Empty for a long-term AccessKey (CREDENTIALS_SOURCE=access_key). */
  readonly securityToken: string;
  /** Epoch ms; null when the credential does not expire (a long-term AccessKey). */
  readonly expiresAt: number | null;
}

/** Where credentials come from: @alicloud/credentials in production, a fake in unit tests. */
export interface CredentialSource {
  /** For logs and /readyz: ecs_ram_role, credentials_uri, ... */
  readonly name: string;
  /** Rejects with an Error whose message is safe to log and to show in /readyz: no secret, no raw answer. */
  fetch(): Promise<StsCredentials>;
  /** Forget anything cached, so the next fetch asks the metadata service again. */
  reset(): void;
}

/** What routes and the OSS module see. */
export interface CredentialsProvider {
  /** The triple to sign the next OSS request with; throws AppError CredentialsUnavailable. */
  getCredentials(): Promise<StsCredentials>;
  /**
   * OSS refused `rejected` (InvalidAccessKeyId, SecurityTokenExpired): fetch a
   * new triple now. Resolves to the triple to retry with, or null when the
   * source had nothing newer.
   */
  refreshAfterRejection(rejected: StsCredentials): Promise<StsCredentials | null>;
  status(): CredentialStatus;
}

export interface CredentialStatus {
  source: string;
  /** A credential that may be handed out right now is in hand. */
  valid: boolean;
  expiresAt: number | null;
  /** Why there is no valid credential (no secrets, no library messages). */
  reason?: string;
}

export interface CredentialProviderWrapperOptions {
  clock: Clock;
  /** Never hand out a credential that expires within this margin. */
  expiryMarginMs: number;
  /** Start a background refresh when less than this is left. */
  refreshAheadMs: number;
  /** After an attempt, wait this long before the next one; requests without a valid credential fail fast meanwhile. */
  retryIntervalMs: number;
  onRefresh?: (event: RefreshEvent) => void;
}

export type RefreshEvent =
  { outcome: 'refreshed'; source: string; expiresAt: number | null; changed: boolean } | { outcome: 'failed'; source: string; error: unknown };

/**
 * The TypeScript port of the Python example's `CredentialProviderWrapper`:
 * every OSS request asks it for the triple to sign with, at the moment it signs.
 *
 * The Python wrapper re-read the three getters on each call. Doing that
 * directly on @alicloud/credentials 2.4 has four problems, each fixed here:
 * - the three getters can straddle a refresh and return a mixed triple, so one
 *   triple is taken from one source answer;
 * - inside the library's 60-minute prefetch window every call goes to the
 *   metadata service, and concurrent callers each make their own request, so
 *   this wrapper caches the triple and shares one refresh among all callers
 *   (single-flight), at most one attempt per retry interval;
 * - the library can hand back an already expired credential without an error
 *   when the metadata service is down, so the wrapper checks the expiry itself
 *   and fails fast with CredentialsUnavailable instead;
 * - the library's credential carries no expiry, so the source returns it.
 * While the metadata service is down and the cached triple is still valid,
 * requests keep using it; when the service returns, the next attempt recovers.
 */
export class CredentialProviderWrapper implements CredentialsProvider {
  private current: StsCredentials | null = null;
  private inFlight: Promise<void> | null = null;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastFailure: string | null = null;
  private rejection: { accessKeyId: string; refreshed: Promise<void> } | null = null;

  constructor(
    private readonly source: CredentialSource,
    private readonly options: CredentialProviderWrapperOptions,
  ) {}

  async getCredentials(): Promise<StsCredentials> {
    const now = this.options.clock.now();
    if (this.current && this.isUsable(this.current, now)) {
      if (this.isDueForRefresh(this.current, now) && this.mayAttempt(now)) {
        void this.refresh(); // in the background: the cached triple is still good
      }
      return this.current;
    }
    if (!this.inFlight && !this.mayAttempt(now)) throw this.unavailable();
    await this.refresh();
    if (this.current && this.isUsable(this.current, this.options.clock.now())) return this.current;
    throw this.unavailable();
  }

  async refreshAfterRejection(rejected: StsCredentials): Promise<StsCredentials | null> {
    // One forced refresh per rejected key, shared by every request that saw
    // the rejection: a storm of rejections is not a storm of metadata requests.
    if (this.rejection?.accessKeyId !== rejected.accessKeyId) {
      this.rejection = { accessKeyId: rejected.accessKeyId, refreshed: this.forceRefresh(rejected) };
    }
    await this.rejection.refreshed;
    const fresh = this.current;
    if (!fresh || fresh.accessKeyId === rejected.accessKeyId) return null;
    return this.isUsable(fresh, this.options.clock.now()) ? fresh : null;
  }

  status(): CredentialStatus {
    const now = this.options.clock.now();
    const valid = this.current !== null && this.isUsable(this.current, now);
    return {
      source: this.source.name,
      valid,
      expiresAt: this.current?.expiresAt ?? null,
      reason: valid ? undefined : this.unavailableReason(),
    };
  }

  private async forceRefresh(rejected: StsCredentials): Promise<void> {
    if (this.current?.accessKeyId !== rejected.accessKeyId) return; // refreshed already
    if (!this.inFlight) this.source.reset(); // the library's cache holds the rejected triple
    await this.refresh();
    if (this.current?.accessKeyId === rejected.accessKeyId) {
      // OSS refused it: it is not handed out again, and /readyz says so.
      this.current = null;
      this.lastFailure = `OSS refused the credential and the ${this.source.name} source had no newer one`;
    }
  }

  /** Single-flight: concurrent callers share one request to the source. */
  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.lastAttemptAt = this.options.clock.now();
    this.inFlight = this.source
      .fetch()
      .then(
        (fetched) => this.accept(fetched),
        // Sources reject with errors whose messages are safe to show (see CredentialSource.fetch).
        (error: unknown) => this.fail(error instanceof Error ? error.message : `the ${this.source.name} credential source failed`, error),
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private accept(fetched: StsCredentials): void {
    if (!this.isUsable(fetched, this.options.clock.now())) {
      // What the library hands back while the metadata service is down. Its own backoff would
      // keep serving that stale answer for up to minutes after the service returns: drop its
      // cache, so the next attempt (one retry interval later) really asks again.
      this.source.reset();
      this.fail(`the ${this.source.name} credential source returned a credential that is expired or about to expire`);
      return;
    }
    if (this.rejection?.accessKeyId === fetched.accessKeyId) {
      // The source still has the triple OSS refused (the metadata service has not rotated yet).
      this.fail(`the ${this.source.name} credential source has no credential newer than the one OSS refused`);
      return;
    }
    const changed = this.current?.accessKeyId !== fetched.accessKeyId;
    this.current = fetched;
    this.lastFailure = null;
    this.options.onRefresh?.({ outcome: 'refreshed', source: this.source.name, expiresAt: fetched.expiresAt, changed });
  }

  /** `reason` is shown in /readyz and logged: it must hold no secret. */
  private fail(reason: string, error: unknown = new Error(reason)): void {
    this.lastFailure = reason;
    this.options.onRefresh?.({ outcome: 'failed', source: this.source.name, error });
  }

  private isUsable(credentials: StsCredentials, now: number): boolean {
    return credentials.expiresAt === null || credentials.expiresAt - now > this.options.expiryMarginMs;
  }

  private isDueForRefresh(credentials: StsCredentials, now: number): boolean {
    return credentials.expiresAt !== null && credentials.expiresAt - now <= this.options.refreshAheadMs;
  }

  private mayAttempt(now: number): boolean {
    return now - this.lastAttemptAt >= this.options.retryIntervalMs;
  }

  private unavailableReason(): string {
    if (this.lastFailure) return this.lastFailure;
    if (this.current) return 'the cached credential has expired or is about to expire';
    return 'no credential has been fetched yet';
  }

  private unavailable(): AppError {
    return new AppError('CredentialsUnavailable', `No valid OSS credential: ${this.unavailableReason()}.`);
  }
}
