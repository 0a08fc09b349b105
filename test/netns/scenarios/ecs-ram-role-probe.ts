/**
 * Netns scenario (run by runInNetns, never by jest directly): the real, unmodified
 * @alicloud/credentials ECS RAM role provider against the metadata emulator on
 * 100.100.100.200:80 in hardened-only mode, once with role discovery and once with the role
 * named by ALIBABA_CLOUD_ECS_METADATA. Prints one result line; never prints a secret.
 *
 * Usage (inside the namespace): node --import tsx ecs-ram-role-probe.ts [roleName]
 */
import { networkInterfaces } from 'node:os';
import Credential, { Config } from '@alicloud/credentials';
import { systemClock } from '../../../src/clock';
import { StsRegistry } from '../../../emulators/sts-registry';
import {
  createMetadataEmulator,
  type MetadataCallCounts,
  type MetadataEmulator,
  type MetadataRequestRecord,
} from '../../../emulators/metadata/metadata-emulator';
import { ECS_METADATA_HOST, printNetnsResult } from '../../support/netns';

export interface EcsRamRoleProbe {
  /** What the library's getCredential() returned (CredentialModel types it as optional). */
  readonly accessKeyId: string | undefined;
  /** What the emulator handed out last: the key the library must have got. */
  readonly issuedAccessKeyId: string | undefined;
  /** Secret and token equal the issued ones too (compared here, so neither is printed). */
  readonly sameTriple: boolean;
  readonly calls: MetadataCallCounts;
  readonly requests: readonly MetadataRequestRecord[];
  readonly elapsedMs: number;
}

export interface EcsRamRoleProbeResult {
  readonly roleName: string;
  readonly discovered: EcsRamRoleProbe;
  readonly named: EcsRamRoleProbe;
}

async function main(roleName: string): Promise<void> {
  assertPrivateNamespace();
  // The library judges expiry by the wall clock, so the emulator must use it too.
  const emulator = createMetadataEmulator({ sts: new StsRegistry(systemClock), roleName, hardenedOnly: true });
  await emulator.listen(80, ECS_METADATA_HOST);
  try {
    const discovered = await probe(emulator);
    process.env.ALIBABA_CLOUD_ECS_METADATA = roleName;
    const named = await probe(emulator);
    const result: EcsRamRoleProbeResult = { roleName, discovered, named };
    printNetnsResult(result);
  } finally {
    await emulator.close();
  }
}

/** One fresh client, one getCredential(), and what the emulator saw of it. */
async function probe(emulator: MetadataEmulator): Promise<EcsRamRoleProbe> {
  emulator.resetCounters();
  const client = new Credential(new Config({ type: 'ecs_ram_role', disableIMDSv1: true }));
  const started = performance.now();
  const credential = await client.getCredential();
  const elapsedMs = Math.round(performance.now() - started);
  const issued = emulator.current();
  return {
    accessKeyId: credential.accessKeyId,
    issuedAccessKeyId: issued?.accessKeyId,
    sameTriple: credential.accessKeySecret === issued?.accessKeySecret && credential.securityToken === issued?.securityToken,
    calls: { ...emulator.calls },
    requests: [...emulator.requests],
    elapsedMs,
  };
}

// The one thing that keeps this script's traffic off real networks: refuse to run anywhere
// but a namespace whose only interface is loopback.
function assertPrivateNamespace(): void {
  const interfaces = Object.keys(networkInterfaces());
  if (interfaces.some((name) => name !== 'lo')) {
    throw new Error(`not in a private network namespace (interfaces: ${interfaces.join(', ')}); run via runInNetns`);
  }
}

if (require.main === module) {
  main(process.argv[2] ?? 'oss-download-role').then(
    () => process.exit(0),
    (error: unknown) => {
      printNetnsResult({ error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
}
