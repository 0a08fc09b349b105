import { randomBytes } from 'node:crypto';
import type { Clock } from '../src/clock';

/**
 * The emulated STS: the one place that knows which credentials exist.
 * The metadata emulator issues credentials here; the OSS emulator checks every
 * signed request against it (unknown key, wrong token, expired token), the way
 * real OSS checks an STS triple it did not issue itself.
 */
export interface IssuedCredential {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Empty for a long-term AccessKey (CREDENTIALS_SOURCE=access_key). */
  readonly securityToken: string;
  /** Epoch ms; null for a long-term AccessKey. */
  readonly expiresAt: number | null;
  /** The RAM role (or user) the credential acts as; the OSS emulator's policy is keyed by it. */
  readonly principal: string;
}

export class StsRegistry {
  private readonly byKeyId = new Map<string, IssuedCredential>();
  private readonly revoked = new Set<string>();

  constructor(private readonly clock: Clock) {}

  /** Issue a new STS triple for `principal`, valid for `ttlMs` from now. */
  issue(principal: string, ttlMs: number): IssuedCredential {
    const credential: IssuedCredential = {
      accessKeyId: `STS.${randomBytes(12).toString('hex')}`,
      accessKeySecret: randomBytes(24).toString('base64url'),
      securityToken: `CAIS${randomBytes(48).toString('base64url')}`,
      // OSS and IMDS speak whole seconds.
      expiresAt: Math.floor((this.clock.now() + ttlMs) / 1000) * 1000,
      principal,
    };
    this.byKeyId.set(credential.accessKeyId, credential);
    return credential;
  }

  /** Register a long-term AccessKey pair (no token, no expiry). */
  addAccessKey(principal: string, accessKeyId: string, accessKeySecret: string): IssuedCredential {
    const credential: IssuedCredential = { accessKeyId, accessKeySecret, securityToken: '', expiresAt: null, principal };
    this.byKeyId.set(accessKeyId, credential);
    return credential;
  }

  /** Withdraw a credential before its expiry, as a detached or changed role does: OSS then answers InvalidAccessKeyId. */
  revoke(accessKeyId: string): void {
    this.revoked.add(accessKeyId);
  }

  lookup(accessKeyId: string): IssuedCredential | undefined {
    return this.revoked.has(accessKeyId) ? undefined : this.byKeyId.get(accessKeyId);
  }

  isExpired(credential: IssuedCredential): boolean {
    return credential.expiresAt !== null && this.clock.now() >= credential.expiresAt;
  }

  /** Every credential issued so far, oldest first: tests scan logs and bodies for these secrets. */
  all(): IssuedCredential[] {
    return [...this.byKeyId.values()];
  }
}
