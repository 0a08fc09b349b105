import path from 'node:path';
import { parseArgs } from 'node:util';
import { allows } from '../access-policy';
import { ConfigError, loadCliConfig, type Config } from '../config';
import { DownloadSuspended } from '../downloads/download-object';
import { downloadPrefix, type PrefixProgress } from '../downloads/prefix-download';
import { AppError, isAppError, type ErrorCode } from '../errors';
import { objectKeyPrefix } from '../oss/object-key';
import { cliDownloadOptions, cliStore, positiveInt, type PartOptions } from './cli-store';
import { EXIT, exitCodeFor } from './exit-codes';
import { formatBytes, formatDuration, ProgressBar } from './progress-bar';

/**
 * `oss-download sync oss://bucket/prefix/ ./dir/ [--delete]` and
 * `oss-download get -r oss://bucket/prefix/ ./dir/`: every object under the
 * prefix to the folder, on the service's prefix-job core
 * (src/downloads/prefix-download.ts). A second run fetches only what changed;
 * an interrupted run, run again, finishes only what is missing.
 */
export const SYNC_USAGE = `usage: oss-download sync [options] oss://BUCKET/PREFIX LOCAL_DIR
       oss-download get -r [options] oss://BUCKET/PREFIX LOCAL_DIR

Downloads every object whose key starts with PREFIX to LOCAL_DIR (created if missing),
the key less PREFIX as the path below it: oss://b/reports/2026/a.csv with PREFIX reports/
lands at LOCAL_DIR/2026/a.csv. Each file appears only once its CRC64 matches. Files
already there with the same content are skipped without downloading them; files this
command wrote before (listed in LOCAL_DIR/.oss-download-manifest.json) are fetched again
when their object changed.

options:
      --delete           (sync only) remove files this command wrote whose object is gone
  -f, --overwrite        replace files in the way that this command did not write
  -j, --files N          files fetched at once (default DOWNLOAD_FILES_PARALLELISM)
  -p, --parallelism N    parts of one large file fetched at once (default DOWNLOAD_PARALLELISM)
      --part-size MB     part size (default DOWNLOAD_PART_SIZE_MB)
      --threshold MB     files up to this size are one stream (default DOWNLOAD_THRESHOLD_MB)
  -q, --quiet            no progress line (it is shown only on a terminal anyway)
  -h, --help             this text

Exit codes as for get, and 7 when some files failed and others were downloaded or
already in place (each failure is printed).
`;

interface SyncArgs extends PartOptions {
  bucket: string;
  prefix: string;
  folder: string;
  overwrite: boolean;
  delete: boolean;
  quiet: boolean;
  files?: number;
}

/** `mode` is how the user called it: `sync`, or `get -r` (which has no --delete). */
export async function prefixCommand(mode: 'sync' | 'get -r', args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args.some((a) => a === '-h' || a === '--help')) {
    process.stdout.write(SYNC_USAGE);
    return EXIT.ok;
  }
  let parsed: SyncArgs;
  let config: Readonly<Config>;
  try {
    parsed = parseSyncArgs(mode, args);
    config = loadCliConfig(env);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `${err instanceof Error ? err.message : String(err)}\n\n${SYNC_USAGE}`;
    process.stderr.write(`oss-download: ${message}\n`);
    return EXIT.usage;
  }
  if (!allows(config.allow, parsed.bucket, parsed.prefix)) {
    process.stderr.write(`oss-download: OSS_ALLOW does not include ${parsed.bucket}/${parsed.prefix}\n`);
    return EXIT.notFoundOrDenied;
  }

  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new DownloadSuspended());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = !parsed.quiet && process.stderr.isTTY ? new ProgressBar(process.stderr, 'listing') : undefined;
  const started = performance.now();
  let bytes = 0;
  try {
    bar?.start(0, 0);
    const progress = await downloadPrefix(
      cliStore(config),
      { bucket: parsed.bucket, prefix: parsed.prefix, root: parsed.folder, folder: '', overwrite: parsed.overwrite, delete: parsed.delete },
      { ...cliDownloadOptions(config, parsed), filesParallelism: parsed.files ?? config.downloads.filesParallelism },
      interrupt.signal,
      {
        onProgress: (p) => bar?.update(p.bytesListed, filesLabel(p)),
        onBytes: (n) => {
          bytes += n;
          bar?.add(n);
        },
      },
    );
    bar?.stop();
    for (const failure of progress.failures) process.stderr.write(`oss-download: failed ${failure.key}: ${failure.detail} (${failure.code})\n`);
    if (progress.filesFailed > progress.failures.length)
      process.stderr.write(`oss-download: and ${progress.filesFailed - progress.failures.length} more failed\n`);
    process.stdout.write(`${summary(progress, bytes, (performance.now() - started) / 1000)}\n`);
    return exitCode(progress);
  } catch (err) {
    bar?.stop();
    const code = exitCodeFor(err);
    const message =
      code === EXIT.interrupted
        ? 'interrupted; run the same command again to finish what is missing.'
        : isAppError(err)
          ? `${err.detail} (${err.code})`
          : String(err);
    process.stderr.write(`oss-download: ${message}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function parseSyncArgs(mode: 'sync' | 'get -r', args: string[]): SyncArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      delete: { type: 'boolean', default: false },
      overwrite: { type: 'boolean', short: 'f', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      files: { type: 'string', short: 'j' },
      parallelism: { type: 'string', short: 'p' },
      'part-size': { type: 'string' },
      threshold: { type: 'string' },
    },
  });
  if (values.delete && mode !== 'sync') throw new AppError('InvalidRequest', '--delete goes with sync (get -r never removes files).');
  if (positionals.length !== 2) throw new AppError('InvalidRequest', `${mode} takes an oss://bucket/prefix URL and a local folder.`);
  const match = /^oss:\/\/([^/]+)\/(.*)$/s.exec(positionals[0]);
  if (!match) throw new AppError('InvalidRequest', `"${positionals[0]}" is not an oss://bucket/prefix URL.`);
  const [, bucket, prefix] = match;
  const prefixCheck = objectKeyPrefix.safeParse(prefix);
  if (!prefixCheck.success) throw new AppError('InvalidRequest', `the prefix ${prefixCheck.error.issues[0].message}.`);
  return {
    bucket,
    prefix,
    folder: path.resolve(positionals[1]),
    overwrite: values.overwrite,
    delete: values.delete,
    quiet: values.quiet,
    files: positiveInt(values.files, '--files'),
    parallelism: positiveInt(values.parallelism, '--parallelism'),
    partSizeMb: positiveInt(values['part-size'], '--part-size'),
    thresholdMb: positiveInt(values.threshold, '--threshold'),
  };
}

function filesLabel(p: Readonly<PrefixProgress>): string {
  const finished = p.filesDone + p.filesSkipped + p.filesFailed;
  return `${finished}/${p.filesListed}${p.listed ? '' : '+'} files`;
}

export function summary(p: Readonly<PrefixProgress>, bytes: number, seconds: number): string {
  const deleted = p.filesDeleted > 0 ? `, ${p.filesDeleted} deleted` : '';
  return `${p.filesDone} downloaded, ${p.filesSkipped} already in place, ${p.filesFailed} failed${deleted}; ${formatBytes(bytes)} in ${formatDuration(seconds)}`;
}

/** 0, or 7 when some files failed beside others that are in place, or the first failure's own code when every file failed. */
export function exitCode(p: Readonly<PrefixProgress>): number {
  if (p.filesFailed === 0) return EXIT.ok;
  if (p.filesDone + p.filesSkipped > 0) return EXIT.partial;
  const first = p.failures[0];
  return exitCodeFor(new AppError(first.code as ErrorCode, first.detail));
}
