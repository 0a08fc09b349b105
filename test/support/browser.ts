import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/**
 * The browser test tier: Debian's chromium (`apt-get install chromium`, as .ci/run does), driven
 * by playwright-core, which never downloads a browser of its own. Everything it loads is on
 * loopback; the resolver maps every host name to nothing, so a stray request cannot leave the
 * machine, and the background services that would phone home are off.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // the tests run as root in a container, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--no-pings',
  '--metrics-recording-only',
  // Every name but the loopback addresses the tests use fails to resolve: nothing can reach a DNS server or leave the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.*',
];

let probe: { ok: boolean; reason: string } | undefined;

function probeChromium(): { ok: boolean; reason: string } {
  if (probe) return probe;
  const run = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (run.error) probe = { ok: false, reason: `cannot run ${CHROMIUM}: ${run.error.message}` };
  else if (run.status !== 0) probe = { ok: false, reason: `${CHROMIUM} --version failed: ${run.stderr.trim() || `exit ${run.status}`}` };
  else probe = { ok: true, reason: run.stdout.trim() };
  return probe;
}

/**
 * `describe` for the browser tier. Without chromium it warns loudly and skips, so a laptop
 * without it still runs the rest; under CI=true it fails instead, so CI cannot go green without
 * having driven a real browser.
 */
export function describeBrowser(name: string, fn: () => void): void {
  const { ok, reason } = probeChromium();
  if (ok) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('runs in headless Chromium (required under CI=true)', () => {
        throw new Error(`CI=true but Chromium is not available: ${reason}. Install it: apt-get install -y chromium`);
      });
    });
  } else {
    const bar = '!'.repeat(78);
    console.warn(
      [
        bar,
        `!! SKIPPED: "${name}"`,
        `!! No Chromium: ${reason}`,
        '!! The HTML index, Basic authentication and CORS were NOT tested in a browser.',
        '!! Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH).',
        '!! Under CI=true this is a failure, not a skip.',
        bar,
      ].join('\n'),
    );
    describe.skip(name, fn);
  }
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Chromium with a fresh profile folder of its own, removed on close. */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
  // playwright-core refuses --user-data-dir with launch(); a persistent context would allow only one
  // context, and the tests need several (desktop, phone, no credentials). So the fresh profile goes
  // through the environment variable Chromium reads for its cache and config (XDG), and
  // playwright-core adds its own fresh --user-data-dir (a new temporary folder per launch).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
    timeout: 30_000,
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything a page says is wrong: console errors (CSP violations among them) and uncaught exceptions. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      errors.push(`console.${message.type()}: ${message.text()}${message.location().url ? ` (${message.location().url})` : ''}`);
    }
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}
