import { Router } from 'express';
import type { CredentialsProvider } from '../src/credentials/credential-provider-wrapper';
import { AppError } from '../src/errors';

/** What readiness needs of the shutdown state: src/lifecycle.ts's Lifecycle, or a test's plain object. */
export interface DrainingState {
  readonly draining: boolean;
}

/**
 * /healthz: liveness, 200 while the process can serve.
 * /readyz: readiness, 200 only with a valid credential in hand and not draining.
 * A readiness probe also drives recovery: with no valid credential it asks the
 * provider for one (which fails fast between attempts), so a service whose
 * metadata service came back turns ready again without any traffic.
 */
export function healthRoutes(deps: { credentials: CredentialsProvider; lifecycle: DrainingState }): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    if (deps.lifecycle.draining) throw new AppError('NotReady', 'The service is shutting down.');
    await deps.credentials.getCredentials(); // throws CredentialsUnavailable (503) with the reason
    const status = deps.credentials.status();
    res.json({
      status: 'ready',
      credentials: {
        source: status.source,
        expiresAt: status.expiresAt === null ? null : new Date(status.expiresAt).toISOString(),
      },
    });
  });

  return router;
}
