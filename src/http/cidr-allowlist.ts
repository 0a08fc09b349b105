import { BlockList, isIP } from 'node:net';
import { commaList } from '../comma-list';

/**
 * ALLOW_CIDRS: the networks that may connect at all, checked on the socket's
 * own peer address. X-Forwarded-For is never consulted here: anyone can write
 * it, so behind a load balancer this list names the balancer's addresses.
 */

export type CidrParse = { ok: true; value: string[] } | { ok: false; error: string };

/** `10.0.0.0/8, 192.168.1.7, fd00::/8` → normalised `address/prefix` strings. */
export function parseCidrs(raw: string): CidrParse {
  const items = commaList(raw);
  if (items.length === 0) return { ok: false, error: 'must name at least one address or network' };
  const value: string[] = [];
  for (const item of items) {
    const [address, prefixText, extra] = item.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (family === 0 || extra !== undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) || !(prefix >= 0 && prefix <= max)) {
      return { ok: false, error: `"${item}" is not an IPv4 or IPv6 address or network (a.b.c.d/n, x::/n)` };
    }
    value.push(`${address}/${prefix}`);
  }
  return { ok: true, value };
}

/** A matcher for parsed CIDRs; IPv4-mapped IPv6 peers (::ffff:10.1.2.3) match their IPv4 networks. */
export function cidrMatcher(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    list.addSubnet(address, Number(prefix), isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    const family = address === undefined ? 0 : isIP(address);
    return family !== 0 && list.check(address!, family === 4 ? 'ipv4' : 'ipv6');
  };
}
