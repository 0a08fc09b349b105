import { systemClock } from '../clock';
import { buildCredentialPath } from '../credential-path';
import type { Config } from '../config';
import type { DownloadOptions } from '../downloads/download-object';
import { DiskSpace } from '../downloads/free-space';
import { defaultRetryPolicy } from '../downloads/retry';
import { AppError } from '../errors';
import { createLogger } from '../logger';
import { Metrics } from '../metrics';
import type { ObjectStore } from '../oss/object-store';

/** What the command line's subcommands share: the store on the service's credential path, and the download options. */

/** The OSS store the service would build from `config`, logging to stderr only at debug or trace (a command line stays quiet). */
export function cliStore(config: Readonly<Config>): ObjectStore {
  const level = config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'warn';
  const logger = createLogger(level, process.stderr);
  return buildCredentialPath(config, { clock: systemClock, logger, metrics: new Metrics() }).store;
}

export interface PartOptions {
  parallelism?: number;
  partSizeMb?: number;
  thresholdMb?: number;
}

const MiB = 1024 * 1024;

/** The configuration's download options, with what the command line's flags override. */
export function cliDownloadOptions(config: Readonly<Config>, flags: PartOptions): DownloadOptions {
  const d = config.downloads;
  return {
    thresholdBytes: flags.thresholdMb !== undefined ? flags.thresholdMb * MiB : d.thresholdBytes,
    partSizeBytes: flags.partSizeMb !== undefined ? flags.partSizeMb * MiB : d.partSizeBytes,
    parallelism: flags.parallelism ?? d.parallelism,
    retry: defaultRetryPolicy,
    space: new DiskSpace(),
  };
}

/** A flag's value as a positive whole number; 400-style usage error otherwise. */
export function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new AppError('InvalidRequest', `${name} must be a positive whole number.`);
  return n;
}
