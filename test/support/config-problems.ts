import { ConfigError, loadConfig } from '../../src/config';

/** The problems loadConfig names for `env`; fails the test when the environment is accepted. */
export function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
