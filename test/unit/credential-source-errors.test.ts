import { CredentialSourceError } from '../../src/credentials/alibaba-credential-source';

describe('CredentialSourceError', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 100.100.100.200:80'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    [new Error('get sts token failed, httpStatus: 500, message = oops'), 'HTTP 500'],
    [new Error('get metadata token failed with 403'), 'HTTP 403'],
    [Object.assign(new Error('ReadTimeout(1000)'), { name: 'RequestTimeoutError' }), 'timeout'],
    [new Error('get sts token failed, json parse failed: Unexpected token'), 'unreadable answer'],
  ])('names the kind of failure of %p', (cause, kind) => {
    expect(new CredentialSourceError('ecs_ram_role', cause).message).toBe(`the ecs_ram_role credential source failed (${kind})`);
  });

  it('never repeats what the library quoted from the answer', () => {
    const cause = new Error('error retrieving credentials from credentialsURI result: {"AccessKeyId":"STS.x","AccessKeySecret":"very-secret"}.');
    const message = new CredentialSourceError('credentials_uri', cause).message;
    expect(message).not.toContain('very-secret');
    expect(message).not.toContain('STS.x');
  });
});
