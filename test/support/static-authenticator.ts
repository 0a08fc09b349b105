import { bearerToken, type Authenticator } from '../../src/auth/authenticator';
import type { Principal } from '../../src/auth/token-file';
import { AppError } from '../../src/errors';

/** Tokens as the tests name them: a principal's token is its name and `-token-xxxxxxxx` (a valid length). */
export class StaticAuthenticator implements Authenticator {
  constructor(private readonly principals: Principal[]) {}

  authenticate(authorization: string | undefined): Principal {
    const token = bearerToken(authorization);
    const found = this.principals.find((p) => `${p.name}-token-xxxxxxxx` === token);
    if (!found) throw new AppError('Unauthorized', 'unknown', { headers: { 'WWW-Authenticate': 'Bearer' } });
    return found;
  }
}

/** The Authorization header for a principal of a StaticAuthenticator. */
export const bearer = (p: Principal): string => `Bearer ${p.name}-token-xxxxxxxx`;
