#!/usr/bin/env node
import { GET_USAGE, getCommand } from './get-command';

/**
 * `oss-download`: the command-line tool. One module per subcommand, each
 * `(args) => Promise<exit code>`; this file only dispatches.
 */
type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  get: (args) => getCommand(args),
  // ── token ────────────────────────────────────────────────────────────────
  // Reserved for the security work: src/cli/token-command.ts exports
  // `tokenCommand(args: string[]): Promise<number>`; wire it in here as
  //   token: tokenCommand,
  // and add its line to USAGE below.
};

const USAGE = `usage: oss-download <command> [arguments]

commands:
  get oss://BUCKET/KEY LOCAL_PATH   download one object, verified and resumable
  help                              this text

${GET_USAGE}`;

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
