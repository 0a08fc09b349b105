import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes';
import { DownloadSuspended } from '../../../src/downloads/download-object';
import { AppError, type ErrorCode } from '../../../src/errors';

describe('oss-download exit codes', () => {
  it.each<[ErrorCode, number]>([
    ['NoSuchKey', EXIT.notFoundOrDenied],
    ['AccessDenied', EXIT.notFoundOrDenied],
    ['ChecksumMismatch', EXIT.verification],
    ['ObjectChanged', EXIT.verification],
    ['InsufficientStorage', EXIT.noSpace],
    ['Conflict', EXIT.exists],
    ['UpstreamUnavailable', EXIT.failed],
    ['CredentialsUnavailable', EXIT.failed],
  ])('maps %s to %i', (code, exit) => {
    expect(exitCodeFor(new AppError(code, 'x'))).toBe(exit);
  });

  it('is 130 for an interruption and 1 for anything unexpected', () => {
    expect(exitCodeFor(new DownloadSuspended())).toBe(130);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });
});
