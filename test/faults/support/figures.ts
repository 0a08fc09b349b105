import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The reliability suite's figures for bench/RESULTS.md. `npm run test:faults`
 * sets FAULTS_REPORT_DIR (bench/faults); plain `npm test` does not, and writes nothing.
 * One file per scenario, so parallel jest workers never write the same file.
 */
export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  const dir = process.env.FAULTS_REPORT_DIR;
  if (!dir) return;
  const root = resolve(__dirname, '..', '..', '..', dir);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, `${scenario}.json`), `${JSON.stringify({ scenario, recordedAt: new Date().toISOString(), ...figures }, null, 2)}\n`);
}
