#!/usr/bin/env node
import { GET_USAGE, getCommand } from './get-command';
import { prefixCommand, SYNC_USAGE } from './sync-command';
import { tokenCommand } from './token-command';

/**
 * `oss-download`: the command-line tool. One module per subcommand, each
 * `(args) => Promise<exit code>`; this file only dispatches.
 */
type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  get: (args) => getCommand(args),
  sync: (args) => prefixCommand('sync', args),
  // ── token ── the security work's module (src/cli/token-command.ts, also runnable on its own).
  token: (args) => tokenCommand(args),
};

const USAGE = `usage: oss-download <command> [arguments]

commands:
  get oss://BUCKET/KEY LOCAL_PATH   download one object, verified and resumable
  get -r oss://BUCKET/PREFIX DIR    download every object under a prefix
  sync oss://BUCKET/PREFIX DIR      the same, keeping DIR in sync (--delete removes what is gone)
  token create NAME [options]       a new caller token and its tokens-file line (see docs/security.md)
  help                              this text

${GET_USAGE}
${SYNC_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`oss-download: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command(args);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`oss-download: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
