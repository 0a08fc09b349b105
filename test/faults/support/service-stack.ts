import { startLoopbackEmulators, type LoopbackEmulators } from '../../../emulators/loopback-emulators';
import { startService, type ServiceProcess } from '../../support/service-process';
import { BUCKET, ROLE } from '../../support/stack';

/**
 * Both emulators in the test process and the built service (`node dist/src/server.js`) as a
 * child process, configured by environment only (credentials_uri against the metadata emulator).
 */
export interface ServiceStack extends LoopbackEmulators {
  service: ServiceProcess;
}

export async function startServiceStack(env: Record<string, string> = {}): Promise<ServiceStack> {
  const emulators = await startLoopbackEmulators({ role: ROLE, bucket: BUCKET });
  const service = await startService(emulators.serviceEnv({ PORT: '0', HOST: '127.0.0.1', ...env }));
  return {
    ...emulators,
    service,
    async close() {
      service.kill();
      await emulators.close();
    },
  };
}
