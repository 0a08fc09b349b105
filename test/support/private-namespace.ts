import { networkInterfaces } from 'node:os';

/**
 * The one thing that keeps a netns scenario's traffic off real networks: it refuses to run
 * anywhere but a namespace whose only interface is loopback (see runInNetns).
 */
export function assertPrivateNamespace(): void {
  const interfaces = Object.keys(networkInterfaces());
  if (interfaces.some((name) => name !== 'lo')) {
    throw new Error(`not in a private network namespace (interfaces: ${interfaces.join(', ')}); run via runInNetns`);
  }
}
