/**
 * Which region each bucket lives in, shared by the emulators of several
 * regions (as the StsRegistry is): bucket names are global in OSS, and an
 * endpoint that does not hold a bucket knows where it is and says so.
 */
export class BucketLocations {
  private readonly regions = new Map<string, string>();

  /** Records `bucket` in `region`; throws when another region already has it (OSS: BucketAlreadyExists). */
  claim(bucket: string, region: string): void {
    const holder = this.regions.get(bucket);
    if (holder !== undefined && holder !== region) throw new Error(`bucket ${bucket} already exists in ${holder}`);
    this.regions.set(bucket, region);
  }

  regionOf(bucket: string): string | undefined {
    return this.regions.get(bucket);
  }
}

/** How an endpoint refuses a bucket of another region. */
export type WrongRegionAnswer = 'access-denied' | 'permanent-redirect';
