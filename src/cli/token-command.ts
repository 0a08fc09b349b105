import { parseArgs } from 'node:util';
import { generateToken, hashToken } from '../auth/tokens';
import { formatTokenLine, isValidTokenName, scopeProblem } from '../auth/token-file';

/**
 * `oss-download token create NAME --scope bucket[/prefix] [--scope …] [--downloads [PREFIX]] [--metrics]`
 *
 * Prints a new random token once, and the line to add to AUTH_TOKENS_FILE
 * (which holds only its SHA-256). The token is never written anywhere else.
 * Returns the exit code: 0, or 2 for a usage error.
 */

const USAGE = `usage: oss-download token create NAME --scope BUCKET[/PREFIX] [--scope ...] [--downloads [PREFIX] ...] [--metrics]

  NAME              1 to 64 of A-Z a-z 0-9 . _ - (shown in logs and metrics)
  --scope           a bucket, or bucket/prefix (a literal key prefix: write reports/ for a folder), to read
  --downloads       may create download jobs (POST /v1/downloads) anywhere under DOWNLOAD_ROOT
  --downloads PREFIX, --downloads=PREFIX
                    may create download jobs only at paths under DOWNLOAD_ROOT that start with
                    PREFIX (a literal prefix: write models/ for a folder); repeatable. --downloads
                    takes the next argument as its PREFIX unless that starts with -
  --metrics         may read /metrics (when METRICS_AUTH=token)

  Scopes cannot hold # or whitespace (the tokens file could not read them back).
`;

export async function tokenCommand(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed;
  const { downloads, others } = takeDownloads(args);
  try {
    parsed = parseArgs({
      args: others,
      allowPositionals: true,
      options: {
        scope: { type: 'string', multiple: true, default: [] },
        metrics: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const [verb, name, ...rest] = positionals;
  const scopes = [
    ...values.scope.map((s) => ({ option: `--scope ${s}`, scope: `read=${s}` })),
    ...downloads.map((p) =>
      p === undefined ? { option: '--downloads', scope: 'downloads' } : { option: `--downloads ${p}`, scope: `downloads=${p}` },
    ),
    ...(values.metrics ? [{ option: '--metrics', scope: 'metrics' }] : []),
  ];
  const problem = usageProblem(verb, name, rest, scopes);
  if (problem) {
    err.write(`${problem}\n${USAGE}`);
    return 2;
  }
  const token = generateToken();
  out.write(
    `New token for ${name} (shown once; give it to the caller now, it is stored nowhere):\n\n  ${token}\n\n` +
      `Add this line to AUTH_TOKENS_FILE (the service reloads it on change or SIGHUP):\n\n` +
      `${formatTokenLine(
        name,
        hashToken(token),
        scopes.map((s) => s.scope),
      )}\n`,
  );
  return 0;
}

/**
 * parseArgs has no option with an optional value, so `--downloads` is taken
 * out first: `--downloads=PREFIX`, `--downloads PREFIX` when the next argument
 * does not start with `-`, else bare `--downloads` (undefined: anywhere).
 * Everything after `--` is left alone.
 */
function takeDownloads(args: readonly string[]): { downloads: Array<string | undefined>; others: string[] } {
  const downloads: Array<string | undefined> = [];
  const others: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--') {
      others.push(...args.slice(i));
      break;
    }
    if (arg.startsWith('--downloads=')) {
      downloads.push(arg.slice('--downloads='.length));
    } else if (arg === '--downloads') {
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        downloads.push(next);
        i += 1;
      } else {
        downloads.push(undefined);
      }
    } else {
      others.push(arg);
    }
  }
  return { downloads, others };
}

type ScopeArg = { option: string; scope: string };

function usageProblem(verb: string | undefined, name: string | undefined, rest: string[], scopes: ScopeArg[]): string | undefined {
  if (verb !== 'create') return verb === undefined ? 'missing command: create' : `unknown command: ${verb}`;
  if (name === undefined) return 'missing NAME';
  if (rest.length > 0) return `unexpected arguments: ${rest.join(' ')}`;
  if (!isValidTokenName(name)) return `NAME "${name}" is not 1 to 64 of A-Z a-z 0-9 . _ - (open, anonymous and rejected are reserved)`;
  if (scopes.length === 0) return 'give at least one --scope, --downloads or --metrics';
  for (const { option, scope } of scopes) {
    const problem = scopeProblem(scope);
    if (problem !== undefined) return `${option}: ${problem}`;
  }
  return undefined;
}

if (require.main === module) {
  // Not awaited at the top level of a CommonJS module: an unexpected rejection ends the process with its stack, as a CLI should.
  void tokenCommand(process.argv.slice(2)).then((code) => process.exit(code));
}
