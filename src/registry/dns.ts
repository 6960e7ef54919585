// Resolves the hostnames of DNS-resolved services with node:dns and refreshes them periodically.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Options of a DnsCache. */
export interface DnsCacheOptions {
  /** How often resolved names are looked up again, in milliseconds (default 30 s). */
  refreshMs?: number;
  /** Called when a name's addresses changed (after the first resolution too). */
  onChange?: (host: string) => void;
}

/**
 * A cache of hostname → IP addresses. `want(hosts)` declares the names currently needed (new ones are
 * resolved in the background, names no longer wanted are dropped); `addresses(host)` reads the cache.
 */
export class DnsCache {
  private readonly entries = new Map<string, readonly string[]>();
  private readonly pending = new Set<string>();
  private wanted = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: DnsCacheOptions = {}) {}

  /** The addresses last resolved for `host`; an IP resolves to itself; undefined until resolved. */
  addresses(host: string): readonly string[] | undefined {
    if (isIP(host)) return [host];
    return this.entries.get(host);
  }

  /** Declares the set of names to keep resolved. */
  want(hosts: Iterable<string>): void {
    const next = new Set<string>();
    for (const h of hosts) if (!isIP(h) && !h.includes('*')) next.add(h);
    for (const h of this.entries.keys()) if (!next.has(h)) this.entries.delete(h);
    this.wanted = next;
    for (const h of next) if (!this.entries.has(h)) this.resolve(h);
    if (next.size > 0 && !this.timer) {
      this.timer = setInterval(() => {
        for (const h of this.wanted) this.resolve(h);
      }, this.options.refreshMs ?? 30_000);
      this.timer.unref();
    }
  }

  /** Resolves every wanted name now and waits for the answers (tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.wanted].map((h) => this.resolveNow(h)));
  }

  /** Stops refreshing. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private resolve(host: string): void {
    if (this.pending.has(host)) return;
    void this.resolveNow(host);
  }

  private async resolveNow(host: string): Promise<void> {
    this.pending.add(host);
    let addrs: string[];
    try {
      addrs = (await lookup(host, { all: true })).map((a) => a.address).sort();
    } catch {
      addrs = [];
    } finally {
      this.pending.delete(host);
    }
    if (!this.wanted.has(host)) return;
    const prev = this.entries.get(host);
    if (prev && prev.length === addrs.length && prev.every((a, i) => a === addrs[i])) return;
    this.entries.set(host, addrs);
    this.options.onChange?.(host);
  }
}
