import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * A results file that keeps every run: the newest first under the file's
 * title, the earlier ones below it, so bench/ANALYSIS.md can quote any of them.
 */
export function prependRun(file: string, title: string, run: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const firstRun = old.indexOf('\n## ');
  writeFileSync(file, `${title}\n${run}\n${firstRun >= 0 ? old.slice(firstRun + 1) : ''}`);
}
