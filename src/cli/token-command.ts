import { parseArgs } from 'node:util';
import { generateToken, hashToken } from '../auth/tokens';
import { formatTokenLine, isValidScope, isValidTokenName } from '../auth/token-file';

/**
 * `oss-download token create NAME --scope bucket[/prefix] [--scope …] [--downloads] [--metrics]`
 *
 * Prints a new random token once, and the line to add to AUTH_TOKENS_FILE
 * (which holds only its SHA-256). The token is never written anywhere else.
 * Returns the exit code: 0, or 2 for a usage error.
 */

const USAGE = `usage: oss-download token create NAME --scope BUCKET[/PREFIX] [--scope ...] [--downloads] [--metrics]

  NAME         1 to 64 of A-Z a-z 0-9 . _ - (shown in logs and metrics)
  --scope      a bucket, or bucket/prefix (a literal key prefix: write reports/ for a folder), to read
  --downloads  may create download jobs (POST /v1/downloads)
  --metrics    may read /metrics (when METRICS_AUTH=token)
`;

export async function tokenCommand(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        scope: { type: 'string', multiple: true, default: [] },
        downloads: { type: 'boolean', default: false },
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
    ...values.scope.map((s) => `read=${s}`),
    ...(values.downloads ? ['downloads'] : []),
    ...(values.metrics ? ['metrics'] : []),
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
      `${formatTokenLine(name!, hashToken(token), scopes)}\n`,
  );
  return 0;
}

function usageProblem(verb: string | undefined, name: string | undefined, rest: string[], scopes: string[]): string | undefined {
  if (verb !== 'create') return verb === undefined ? 'missing command: create' : `unknown command: ${verb}`;
  if (name === undefined) return 'missing NAME';
  if (rest.length > 0) return `unexpected arguments: ${rest.join(' ')}`;
  if (!isValidTokenName(name)) return `NAME "${name}" is not 1 to 64 of A-Z a-z 0-9 . _ - (open, anonymous and rejected are reserved)`;
  if (scopes.length === 0) return 'give at least one --scope, --downloads or --metrics';
  const bad = scopes.find((s) => !isValidScope(s));
  return bad === undefined ? undefined : `--scope ${bad.slice(5)}: must be a valid bucket name, optionally /prefix`;
}

if (require.main === module) {
  tokenCommand(process.argv.slice(2)).then((code) => process.exit(code));
}
