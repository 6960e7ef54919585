// envoy.config.core.v3.CidrRange compiled into node:net's BlockList (no hand-written address math).
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { envoy_config_core_v3_CidrRange as CidrRangeConfig } from '../../xds/envoy-types.js';

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`; other addresses unchanged. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** One compiled CidrRange: `addressPrefix` / `prefixLen` (absent prefixLen = 0, i.e. the whole family). */
export class CidrRange {
  private readonly list = new BlockList();
  private readonly family: 'ipv4' | 'ipv6';

  constructor(c: CidrRangeConfig | null | undefined) {
    const addr = plainIp(c?.addressPrefix ?? '');
    const v4 = isIPv4(addr);
    if (!v4 && !isIPv6(addr)) throw new Error(`cidr range: invalid address ${JSON.stringify(addr)}`);
    this.family = v4 ? 'ipv4' : 'ipv6';
    // Canonical form wraps prefixLen ({ value }); hand-written JSON may give the number itself.
    const pl: unknown = c?.prefixLen;
    const len = Number(
      typeof pl === 'object' && pl !== null ? ((pl as { value?: unknown }).value ?? 0) : (pl ?? 0),
    );
    if (!Number.isInteger(len) || len < 0 || len > (v4 ? 32 : 128))
      throw new Error(`cidr range: invalid prefix length ${len} for ${addr}`);
    this.list.addSubnet(addr, len, this.family);
  }

  /** True when `ip` (a plain or v4-mapped address) is inside the range. */
  contains(ip: string): boolean {
    const p = plainIp(ip);
    const fam = isIPv4(p) ? 'ipv4' : isIPv6(p) ? 'ipv6' : null;
    return fam === this.family && this.list.check(p, fam);
  }
}
