import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A fresh tree per test for the download folder code: `root` (an empty
 * DOWNLOAD_ROOT) and `outside` beside it, where nothing must ever appear;
 * both removed after each test. Call inside a `describe`.
 */
export function sandboxTree(name: string): { root: string; outside: string } {
  const tree = { root: '', outside: '' };
  let sandbox = '';
  beforeEach(() => {
    sandbox = mkdtempSync(path.join(tmpdir(), `${name}-`));
    tree.root = path.join(sandbox, 'root');
    tree.outside = path.join(sandbox, 'outside');
    mkdirSync(tree.root);
    mkdirSync(tree.outside);
  });
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }));
  return tree;
}
