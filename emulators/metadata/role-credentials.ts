import type { Clock } from '../../src/clock';
import type { IssuedCredential, StsRegistry } from '../sts-registry';

export interface RoleCredentialEntry {
  readonly credential: IssuedCredential;
  /** Epoch ms when IMDS took this credential: its `LastUpdated`. */
  readonly lastUpdatedAt: number;
}

export interface RotationPolicy {
  /** How long each new credential lives. */
  readonly ttlMs: number;
  /** Take a new credential once less than this is left on the current one. */
  readonly rotateBeforeMs: number;
}

/**
 * The instance role's credential as IMDS hands it out: the same one on every call until less
 * than `rotateBeforeMs` is left, then a fresh one. Rotation never revokes: the old credential
 * stays valid in the registry until its own Expiration, as on a real instance, so a client that
 * still holds it keeps working.
 */
export class RoleCredentials {
  private readonly byRole = new Map<string, RoleCredentialEntry>();

  constructor(
    private readonly sts: StsRegistry,
    private readonly clock: Clock,
    private readonly policy: RotationPolicy,
  ) {}

  /** The credential IMDS would answer with now, rotating first when it is due. */
  forRole(role: string): RoleCredentialEntry {
    const entry = this.byRole.get(role);
    return entry && !this.rotationDue(entry) ? entry : this.rotate(role);
  }

  /** The last credential handed out for `role`, without rotating. */
  peek(role: string): RoleCredentialEntry | undefined {
    return this.byRole.get(role);
  }

  rotate(role: string): RoleCredentialEntry {
    const entry = { credential: this.sts.issue(role, this.policy.ttlMs), lastUpdatedAt: this.clock.now() };
    this.byRole.set(role, entry);
    return entry;
  }

  private rotationDue(entry: RoleCredentialEntry): boolean {
    const expiresAt = entry.credential.expiresAt ?? Number.POSITIVE_INFINITY;
    return expiresAt - this.clock.now() < this.policy.rotateBeforeMs;
  }
}
