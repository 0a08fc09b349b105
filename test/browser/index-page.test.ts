import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BASIC_CHALLENGE } from '../../src/http/basic-challenge';
import { startSecureService, type SecureService } from '../security/support/secure-service';
import { collectPageErrors, describeBrowser, launchChromium, type LaunchedBrowser } from '../support/browser';
import { BUCKET } from '../support/stack';

/**
 * The HTML index, Basic authentication and CORS in a real browser: headless Chromium against the
 * built service (tokens on, CORS_ORIGINS set) in front of both emulators, all on loopback.
 * Screenshots go to test/browser/screenshots/ (gitignored) for a person to look at.
 */
const SCREENSHOTS = path.join(__dirname, 'screenshots');
const OBJECTS: Record<string, string> = {
  'hello.txt': 'Hello from the OSS emulator.\n',
  'reports/README.md': '# Reports\n',
  'reports/2025/annual report #7 100%?.txt': 'Keys with spaces, #, % and ? open too.\n',
  'reports/2026/q1-summary.csv': 'quarter,downloads\nQ1,1024\n',
  'reports/2026/q2-summary.csv': 'quarter,downloads\nQ2,2048\n',
  'reports/2026/日本語 レポート.txt': 'ユニコードのキーも読めます。\n',
};

/** A page on another loopback origin, as a web app would be; /csp-probe breaks its own CSP on purpose. */
async function otherOrigin(host: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (req.url === '/csp-probe') {
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'none'");
      res.end('<!doctype html><title>probe</title><style>p{color:red}</style><p>probe');
      return;
    }
    res.end('<!doctype html><title>web app</title><p>a web app on another origin');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://${host}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describeBrowser('the service in headless Chromium', () => {
  let service: SecureService;
  let chromium: LaunchedBrowser;
  let browser: Browser;
  let allowed: Awaited<ReturnType<typeof otherOrigin>>;
  let blocked: Awaited<ReturnType<typeof otherOrigin>>;
  let base: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [allowed, blocked] = await Promise.all([otherOrigin('127.0.0.2'), otherOrigin('127.0.0.3')]);
    service = await startSecureService({ CORS_ORIGINS: allowed.origin });
    for (const [key, body] of Object.entries(OBJECTS)) service.oss.putObject(BUCKET, key, body, { contentType: 'text/plain; charset=utf-8' });
    base = service.service.baseUrl;
    chromium = await launchChromium();
    browser = chromium.browser;
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await service?.close();
    await Promise.all([allowed?.close(), blocked?.close()]);
  });

  /**
   * A context signed in with Basic, the reader's token as the password, as a browser is once its
   * user answered the prompt: it sends the credentials with every request, so no 401 is left in
   * the console to hide a real error. ('the Basic challenge' below tests the prompt itself.)
   */
  const signedIn = (options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> =>
    browser.newContext({
      httpCredentials: { username: 'someone', password: service.tokens.reader, send: 'always' },
      acceptDownloads: true,
      ...options,
    });

  describe('the index, signed in with Basic', () => {
    let context: BrowserContext;
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      context = await signedIn({ viewport: { width: 1100, height: 620 } });
      page = await context.newPage();
      errors = collectPageErrors(page);
    });
    afterAll(() => context.close());

    it('opens the bucket as a page, with its own CSP', async () => {
      const response = await page.goto(`${base}/v1/objects/${BUCKET}?delimiter=/`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
      expect(await page.title()).toBe(`${BUCKET}/ · oss-download-service`);
      expect(await page.locator('tbody tr').allInnerTexts()).toEqual([
        expect.stringMatching(/^reports\/\s*$/),
        expect.stringMatching(/^hello\.txt\s+29 B\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+Download$/),
      ]);
      // The hashed style applied (a blocked one would leave the default serif, black links).
      expect(await page.evaluate('getComputedStyle(document.querySelector("td.name a")).textDecorationLine')).toBe('none');
    });

    it('follows a folder, then another, with breadcrumbs back', async () => {
      await page.getByRole('link', { name: 'reports/' }).click();
      await page.waitForURL(/prefix=reports%2F&delimiter=%2F$/);
      expect(await page.locator('h1').innerText()).toBe(`${BUCKET}/reports`);
      await page.getByRole('link', { name: '2026/' }).click();
      await page.waitForURL(/prefix=reports%2F2026%2F/);
      expect(await page.locator('h1 a').allInnerTexts()).toEqual([BUCKET, 'reports']);
      expect(await page.locator('.summary').innerText()).toBe('3 objects');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'folder-desktop.png'), fullPage: true });
    });

    it('follows the next page and back to the first', async () => {
      await page.goto(`${base}/v1/objects/${BUCKET}?prefix=reports%2F2026%2F&delimiter=%2F&limit=2`);
      expect(await page.locator('td.name a').allInnerTexts()).toEqual(['q1-summary.csv', 'q2-summary.csv']);
      expect(await page.locator('.summary').innerText()).toBe('2 objects on this page · more on the next page');
      await page.getByRole('link', { name: 'Next page →' }).click();
      await page.waitForURL(/cursor=/);
      expect(await page.locator('td.name a').allInnerTexts()).toEqual(['日本語 レポート.txt']);
      expect(await page.getByRole('link', { name: 'Next page →' }).count()).toBe(0);
      await page.getByRole('link', { name: 'First page' }).click();
      await page.waitForURL((url) => !url.search.includes('cursor='));
      expect(await page.locator('td.name a').allInnerTexts()).toEqual(['q1-summary.csv', 'q2-summary.csv']);
    });

    it('downloads a file with a unicode name, byte for byte', async () => {
      await page.goto(`${base}/v1/objects/${BUCKET}?prefix=reports%2F2026%2F&delimiter=%2F`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: `Download reports/2026/日本語 レポート.txt` }).click(),
      ]);
      expect(download.suggestedFilename()).toBe('日本語 レポート.txt');
      const file = path.join(SCREENSHOTS, 'downloaded.txt');
      await download.saveAs(file);
      expect(readFileSync(file)).toEqual(Buffer.from(OBJECTS['reports/2026/日本語 レポート.txt']));
    });

    it('opens an object whose key has spaces, #, % and ?', async () => {
      await page.goto(`${base}/v1/objects/${BUCKET}?prefix=reports%2F2025%2F&delimiter=%2F`);
      await page.getByRole('link', { name: 'annual report #7 100%?.txt', exact: true }).click();
      await page.waitForURL(/annual%20report%20%237%20100%25%3F\.txt$/);
      expect(await page.locator('body').innerText()).toBe(OBJECTS['reports/2025/annual report #7 100%?.txt']);
    });

    it('takes desktop and phone screenshots of the index', async () => {
      const url = `${base}/v1/objects/${BUCKET}?prefix=reports%2F2026%2F&delimiter=%2F&limit=2`;
      await page.goto(url);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'index-desktop.png'), fullPage: true });
      const phone = await signedIn({ viewport: { width: 390, height: 700 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      try {
        const phonePage = await phone.newPage();
        const phoneErrors = collectPageErrors(phonePage);
        await phonePage.goto(url);
        await phonePage.screenshot({ path: path.join(SCREENSHOTS, 'index-phone.png'), fullPage: true });
        // Nothing wider than the phone: no sideways scrolling.
        expect(await phonePage.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
        expect(phoneErrors).toEqual([]);
      } finally {
        await phone.close();
      }
    });

    it('takes the README screenshot: a folder with folders and a file, at a laptop width', async () => {
      const readme = await signedIn({ viewport: { width: 860, height: 200 } });
      try {
        const readmePage = await readme.newPage();
        await readmePage.goto(`${base}/v1/objects/${BUCKET}?prefix=reports%2F&delimiter=%2F`);
        expect(await readmePage.locator('tbody tr').count()).toBe(3);
        await readmePage.screenshot({ path: path.join(SCREENSHOTS, 'readme-index.png'), fullPage: true });
      } finally {
        await readme.close();
      }
    });

    it('logged no CSP violation and no error on any of these pages', () => {
      expect(errors).toEqual([]);
    });
  });

  it('would catch a CSP violation (the console check is real)', async () => {
    const page = await browser.newPage();
    try {
      const errors = collectPageErrors(page);
      const violation = page.waitForEvent('console', (m) => m.text().includes('Content Security Policy'));
      await page.goto(`${allowed.origin}/csp-probe`);
      await violation;
      expect(errors).toEqual([expect.stringMatching(/^console\.error: .*Content Security Policy/)]);
    } finally {
      await page.close();
    }
  });

  describe('the Basic challenge', () => {
    const url = () => `${base}/v1/objects/${BUCKET}?delimiter=/`;

    it('without credentials, the page gets 401 with Basic beside Bearer, each on its own line', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        // With no credentials to offer, Playwright cancels the prompt and the navigation fails; the answer is still seen.
        const [response] = await Promise.all([page.waitForResponse((r) => r.url() === url()), page.goto(url()).catch(() => null)]);
        expect(response.status()).toBe(401);
        const challenges = (await response.headersArray()).filter((h) => h.name.toLowerCase() === 'www-authenticate').map((h) => h.value);
        expect(challenges).toEqual(['Bearer realm="oss-download-service"', BASIC_CHALLENGE]);
      } finally {
        await context.close();
      }
    });

    it('is what makes the browser ask: credentials given only on a challenge open the index', async () => {
      const context = await browser.newContext({ httpCredentials: { username: 'someone', password: service.tokens.reader, send: 'unauthorized' } });
      try {
        const page = await context.newPage();
        const before = service.service.logLines().length;
        const response = await page.goto(url());
        expect(response?.status()).toBe(200);
        expect(await page.locator('h1').innerText()).toBe(BUCKET);
        // Playwright answers the prompt out of sight; the service saw the 401, then the same request with the token.
        const target = new URL(url());
        const seen = service.service
          .logLines()
          .slice(before)
          .filter((l) => (l.req as { url?: string }).url === `${target.pathname}${target.search}`)
          .map((l) => [(l.res as { statusCode: number }).statusCode, l.caller]);
        expect(seen).toEqual([
          [401, undefined],
          [200, 'reader'],
        ]);
      } finally {
        await context.close();
      }
    });
  });

  describe('CORS from a page on another loopback origin', () => {
    /** fetch() in the page at `origin`: a bearer token and a Range, so the browser sends a preflight first. */
    const fetchFrom = async (origin: string) => {
      const page = await browser.newPage();
      try {
        await page.goto(`${origin}/`);
        return await page.evaluate(
          async ({ url, token }) => {
            try {
              const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Range: 'bytes=0-4' } });
              return {
                status: res.status,
                contentRange: res.headers.get('content-range'),
                crc: res.headers.get('x-oss-hash-crc64ecma'),
                body: await res.text(),
              };
            } catch (err) {
              return { error: String(err) };
            }
          },
          { url: `${base}/v1/objects/${BUCKET}/hello.txt`, token: service.tokens.reader },
        );
      } finally {
        await page.close();
      }
    };

    it('lets the allowed origin read a range and its Content-Range, after a preflight that carried no token', async () => {
      expect(await fetchFrom(allowed.origin)).toEqual({
        status: 206,
        contentRange: 'bytes 0-4/29',
        crc: expect.stringMatching(/^\d+$/),
        body: 'Hello',
      });
      const preflight = await service.service.waitForLog((l) => (l.req as { method?: string } | undefined)?.method === 'OPTIONS');
      expect(preflight).toMatchObject({ res: { statusCode: 204 } });
      expect(preflight.caller).toBeUndefined();
    });

    it('blocks another origin', async () => {
      expect(await fetchFrom(blocked.origin)).toEqual({ error: 'TypeError: Failed to fetch' });
    });
  });
});
