import { createLogger } from '../logger';
import { TokenFileAuthenticator } from './authenticator';

/**
 * What is wrong with the tokens file at `file`, as one line of the start-up
 * message (naming the variable and the path), or undefined when it loads.
 * server.ts checks it beside the environment, so an operator sees every
 * problem at once.
 */
export async function tokensFileProblem(file: string): Promise<string | undefined> {
  try {
    await TokenFileAuthenticator.load(file, createLogger('silent'));
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined) return `AUTH_TOKENS_FILE: ${file}: ${READ_ERRORS[code] ?? `cannot be read (${code})`}`;
    // A parse error already names the file and lists each bad line.
    return `AUTH_TOKENS_FILE: ${(err as Error).message.replaceAll('\n  - ', '\n      - ')}`;
  }
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'does not exist',
  EISDIR: 'is a folder, not a file',
  EACCES: 'cannot be read (permission denied)',
  ENOTDIR: 'is not under a folder (a part of the path is a file)',
};
