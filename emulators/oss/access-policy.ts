/**
 * Per-principal read grants, standing in for the RAM policy attached to a
 * role: `allow('role-a', 'bkt', 'logs/')` lets role-a read keys under logs/
 * and list prefixes under it. Anything not granted is refused, as a role
 * without a matching Allow statement is refused by OSS.
 */
interface Grant {
  bucket: string;
  prefix: string;
}

export class AccessPolicy {
  private readonly grants = new Map<string, Grant[]>();

  allow(principal: string, bucket: string, prefix = ''): void {
    const grants = this.grants.get(principal) ?? [];
    grants.push({ bucket, prefix });
    this.grants.set(principal, grants);
  }

  canRead(principal: string, bucket: string, key: string): boolean {
    return this.grantsFor(principal, bucket).some((grant) => key.startsWith(grant.prefix));
  }

  /** Listing `prefix` is allowed when a grant covers every key the listing could show. */
  canList(principal: string, bucket: string, prefix: string): boolean {
    return this.grantsFor(principal, bucket).some((grant) => prefix.startsWith(grant.prefix));
  }

  private grantsFor(principal: string, bucket: string): Grant[] {
    return (this.grants.get(principal) ?? []).filter((grant) => grant.bucket === bucket);
  }
}
