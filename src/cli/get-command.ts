import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { allows } from '../access-policy';
import { ConfigError, loadCliConfig, type Config } from '../config';
import { downloadObject, DownloadSuspended, type DownloadResult } from '../downloads/download-object';
import { openLocalTarget } from '../downloads/target-path';
import { AppError } from '../errors';
import { cliDownloadOptions, cliStore, positiveInt } from './cli-store';
import { EXIT, exitCodeFor } from './exit-codes';
import { ProgressBar, formatBytes } from './progress-bar';
import { prefixCommand } from './sync-command';

/**
 * `oss-download get oss://bucket/key ./local-file`: the seed's Python script
 * (`bucket.get_object_to_file`) done properly, on the same core as the
 * service's jobs: the same credential path, atomic, parallel, verified and
 * resumable. Run the same command again after an interruption to resume.
 */
export const GET_USAGE = `usage: oss-download get [options] oss://BUCKET/KEY LOCAL_PATH

Downloads one object to LOCAL_PATH (a file, or an existing folder to keep the key's
base name). The file appears only once its CRC64 matches what OSS reported.

options:
  -f, --overwrite        replace LOCAL_PATH if it exists
  -p, --parallelism N    parts fetched at once (default DOWNLOAD_PARALLELISM)
      --part-size MB     part size (default DOWNLOAD_PART_SIZE_MB)
      --threshold MB     objects up to this size are one stream (default DOWNLOAD_THRESHOLD_MB)
  -q, --quiet            no progress bar (it is shown only on a terminal anyway)
  -h, --help             this text

Configuration and credentials come from the same environment variables as the service
(OSS_REGION, OSS_ENDPOINT, CREDENTIALS_SOURCE, ...); OSS_ALLOW is optional here.
Exit codes: 0 done, 1 failed, 2 usage, 3 not found or denied, 4 verification failed,
5 not enough disk space, 6 target exists, 130 interrupted (run again to resume).
`;

interface GetArgs {
  bucket: string;
  key: string;
  target: string;
  overwrite: boolean;
  quiet: boolean;
  parallelism?: number;
  partSizeMb?: number;
  thresholdMb?: number;
}

export async function getCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args.some((a) => a === '-r' || a === '--recursive')) {
    return prefixCommand(
      'get -r',
      args.filter((a) => a !== '-r' && a !== '--recursive'),
      env,
    );
  }
  if (wantsHelp(args)) {
    process.stdout.write(GET_USAGE);
    return EXIT.ok;
  }
  let parsed: GetArgs;
  let config: Readonly<Config>;
  try {
    parsed = parseGetArgs(args);
    config = loadCliConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`oss-download: ${err.message}\n`);
    } else {
      process.stderr.write(`oss-download: ${err instanceof Error ? err.message : String(err)}\n\n${GET_USAGE}`);
    }
    return EXIT.usage;
  }
  if (!allows(config.allow, parsed.bucket, parsed.key)) {
    process.stderr.write(`oss-download: OSS_ALLOW does not include ${parsed.bucket}/${parsed.key}\n`);
    return EXIT.notFoundOrDenied;
  }

  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new DownloadSuspended());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = !parsed.quiet && process.stderr.isTTY ? new ProgressBar(process.stderr, path.basename(parsed.target)) : undefined;
  try {
    const result = await run(parsed, config, interrupt.signal, bar);
    bar?.stop(summary(parsed, result));
    return EXIT.ok;
  } catch (err) {
    bar?.stop();
    const code = exitCodeFor(err);
    process.stderr.write(`oss-download: ${failureMessage(err, code, parsed.target)}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function run(args: GetArgs, config: Readonly<Config>, signal: AbortSignal, bar: ProgressBar | undefined): Promise<DownloadResult> {
  const files = await openLocalTarget(args.target);
  try {
    return await downloadObject(
      cliStore(config),
      { bucket: args.bucket, key: args.key, files, overwrite: args.overwrite, recordedPath: args.target },
      cliDownloadOptions(config, args),
      signal,
      { onStart: (info) => bar?.start(info.size, info.resumedBytes), onBytes: (n) => bar?.add(n) },
    );
  } finally {
    await files.release(false);
  }
}

export function parseGetArgs(args: string[]): GetArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      overwrite: { type: 'boolean', short: 'f', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      parallelism: { type: 'string', short: 'p' },
      'part-size': { type: 'string' },
      threshold: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new AppError('InvalidRequest', 'get takes an oss://bucket/key URL and a local path.');
  const match = /^oss:\/\/([^/]+)\/(.+)$/s.exec(positionals[0]);
  if (!match) throw new AppError('InvalidRequest', `"${positionals[0]}" is not an oss://bucket/key URL.`);
  const [, bucket, key] = match;
  return {
    bucket,
    key,
    target: localTarget(positionals[1], key),
    overwrite: values.overwrite,
    quiet: values.quiet,
    parallelism: positiveInt(values.parallelism, '--parallelism'),
    partSizeMb: positiveInt(values['part-size'], '--part-size'),
    thresholdMb: positiveInt(values.threshold, '--threshold'),
  };
}

/** A folder (existing, or written with a trailing slash) keeps the key's base name. */
function localTarget(local: string, key: string): string {
  const isFolder = local.endsWith('/') || statSync(local, { throwIfNoEntry: false })?.isDirectory() === true;
  const target = path.resolve(isFolder ? path.join(local, path.posix.basename(key)) : local);
  if (statSync(path.dirname(target), { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new AppError('InvalidRequest', `the folder ${path.dirname(target)} does not exist.`);
  }
  return target;
}

function summary(args: GetArgs, result: DownloadResult): string {
  const verified = result.crcVerified ? `CRC64 ${result.crc64} verified` : 'OSS sent no CRC64 to verify';
  return `${args.target}: ${formatBytes(result.size)}, ${verified}`;
}

/** `-h` or `--help` anywhere before a `--` (after it, they would be file names). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help');
}

function failureMessage(err: unknown, code: number, target: string): string {
  if (code === EXIT.interrupted) return 'interrupted; the checkpoint is kept: run the same command again to resume.';
  // The download core words it for the HTTP API ("overwrite": true); here the switch is -f.
  if (code === EXIT.exists) return `${target} exists: use -f (--overwrite) to replace it.`;
  if (err instanceof AppError) return `${err.detail} (${err.code})`;
  return `the download failed: ${err instanceof Error ? err.message : String(err)}`;
}
