import type { CredentialStatus, CredentialsProvider, StsCredentials } from '../../src/credentials/credential-provider-wrapper';
import { AppError } from '../../src/errors';

/** A CredentialsProvider for route tests: valid or not, as the test says. */
export class FakeCredentials implements CredentialsProvider {
  valid = true;
  readonly triple: StsCredentials = {
    accessKeyId: 'STS.fake',
    accessKeySecret: 'fake-secret',
    securityToken: 'fake-token',
    expiresAt: Date.UTC(2030, 0, 1),
  };

  async getCredentials(): Promise<StsCredentials> {
    if (!this.valid) throw new AppError('CredentialsUnavailable', 'No valid OSS credential: the test said so.');
    return this.triple;
  }

  async refreshAfterRejection(): Promise<StsCredentials | null> {
    return null;
  }

  status(): CredentialStatus {
    return { source: 'fake', valid: this.valid, expiresAt: this.triple.expiresAt, reason: this.valid ? undefined : 'the test said so' };
  }
}
