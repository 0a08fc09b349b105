import { isIP } from 'node:net';

/**
 * TRUST_PROXY, handed to Express's `trust proxy` setting. It only decides what
 * `req.ip` (and so the log line) says about the caller; authentication and
 * ALLOW_CIDRS never read X-Forwarded-For. `true` (trust every hop) is refused:
 * any caller could then name any address.
 */
export type TrustProxy = false | number | string[];

const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

export function parseTrustProxy(raw: string | undefined): { ok: true; value: TrustProxy } | { ok: false; error: string } {
  const text = raw?.trim() ?? '';
  if (text === '' || text === 'false') return { ok: true, value: false };
  if (/^\d{1,2}$/.test(text)) return { ok: true, value: Number(text) };
  const items = text.split(',').map((s) => s.trim());
  const bad = items.find((item) => !NAMED.has(item) && isIP(item.split('/')[0]) === 0);
  if (bad !== undefined || items.includes('')) {
    return {
      ok: false,
      error: `"${bad ?? text}" is not a hop count, loopback, linklocal, uniquelocal or an address/network (true is not accepted)`,
    };
  }
  return { ok: true, value: items };
}
