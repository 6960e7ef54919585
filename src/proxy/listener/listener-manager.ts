// Owns the listeners: applies LDS/bootstrap listeners (bind, in-place update, drain on removal) and
// answers admin /listeners and /drain_listeners.
import type { Counter, Gauge, StatsStore } from '../stats/stats-store.js';
import { ActiveListener } from './active-listener.js';
import { NO_LIMITS, type ConnectionLimits } from './connection-limit.js';
import type { FilterChain } from './filter-chain.js';
import { ListenerConfig } from './listener-config.js';
import { logger } from '../log.js';

const log = logger('listener');

/** A listener with config-dump bookkeeping. */
export interface ListenerEntry {
  listener: ActiveListener;
  source: 'static' | 'dynamic';
  version: string;
  lastUpdated: string;
}

/** All listeners of the proxy. */
export class ListenerManager {
  readonly entries = new Map<string, ListenerEntry>();
  private readonly active: Gauge;
  private readonly draining: Gauge;
  private readonly added: Counter;
  private readonly removed: Counter;
  private readonly modified: Counter;
  private drainingCount = 0;

  constructor(
    private readonly store: StatsStore,
    /** How long removed listeners and replaced chains keep serving existing connections (ms). */
    private readonly drainMs: number,
    /** Downstream connection limits shared by every listener. */
    private readonly limits: ConnectionLimits = NO_LIMITS,
  ) {
    const g = (n: string): Gauge => store.gauge(`listener_manager.${n}`, `listener_manager.${n}`, []);
    const c = (n: string): Counter => store.counter(`listener_manager.${n}`, `listener_manager.${n}`, []);
    this.active = g('total_listeners_active');
    this.draining = g('total_listeners_draining');
    this.added = c('listener_added');
    this.removed = c('listener_removed');
    this.modified = c('listener_modified');
  }

  /** Chains of the current version of listener `name`, by canonical JSON (for reuse on update). */
  reusableChains(name: string): Map<string, FilterChain> | null {
    const e = this.entries.get(name);
    if (!e) return null;
    return new Map(e.listener.config.allChains().map((c) => [c.json, c]));
  }

  /** Adds or updates a compiled listener. Rejects (leaving the old one) when binding fails. */
  async upsert(cfg: ListenerConfig, source: 'static' | 'dynamic', version: string): Promise<void> {
    const old = this.entries.get(cfg.name);
    const now = new Date().toISOString();
    if (old) {
      const o = old.listener.config;
      if (JSON.stringify(o.config) === JSON.stringify(cfg.config)) {
        old.version = version;
        return;
      }
      // Same socket: same address and port (a port-0 listener keeps the port it got).
      const samePort = o.port === cfg.port || (o.port === 0 && cfg.port === old.listener.boundPort);
      if (o.address === cfg.address && samePort && o.bind === cfg.bind) {
        const gone = old.listener.update(cfg);
        this.drainChains(gone);
        old.version = version;
        old.lastUpdated = now;
        this.modified.inc();
        return;
      }
      // Address changed: the old socket stops and drains, a new one binds.
      this.entries.delete(cfg.name);
      this.retire(old.listener);
    }
    const l = new ActiveListener(cfg, this.store, this.limits, (dst) => this.byAddress(dst.ip, dst.port));
    await l.bind();
    this.entries.set(cfg.name, { listener: l, source, version, lastUpdated: now });
    this.added.inc();
    this.active.set(this.entries.size);
    if (l.config.bind) log.info(`listener ${cfg.name} bound to ${l.boundAddress}`);
  }

  /**
   * The listener for an original destination, as Envoy's use_original_dst hand-off picks it: the one
   * at exactly ip:port, else the wildcard 0.0.0.0:port one; null when neither exists.
   */
  byAddress(ip: string, port: number): ActiveListener | null {
    let wildcard: ActiveListener | null = null;
    for (const e of this.entries.values()) {
      const c = e.listener.config;
      if (c.port !== port) continue;
      if (c.address === ip) return e.listener;
      if (c.address === '0.0.0.0' || c.address === '::') wildcard ??= e.listener;
    }
    return wildcard;
  }

  /** Removes a listener: it stops accepting and its connections drain. */
  remove(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    this.retire(e.listener);
    this.removed.inc();
    this.active.set(this.entries.size);
  }

  private retire(l: ActiveListener): void {
    this.drainingCount++;
    this.draining.set(this.drainingCount);
    void l.stop(this.drainMs).then(() => {
      this.drainingCount--;
      this.draining.set(this.drainingCount);
    });
  }

  private drainChains(chains: FilterChain[]): void {
    for (const c of chains) c.drain();
    if (chains.length === 0) return;
    const t = setTimeout(() => {
      for (const c of chains) c.close();
    }, this.drainMs);
    t.unref();
  }

  /** Admin /drain_listeners: graceful → drain connections, then stop; otherwise stop accepting now. */
  drainAll(graceful: boolean, inboundOnly: boolean): void {
    for (const [name, e] of [...this.entries]) {
      if (inboundOnly && e.listener.config.config.trafficDirection !== 'INBOUND' && name !== 'virtualInbound')
        continue;
      this.entries.delete(name);
      if (graceful) this.retire(e.listener);
      else void e.listener.stop(0);
    }
    this.active.set(this.entries.size);
  }

  /** Names listeners whose HCMs use RDS (for subscribing). */
  rdsNames(): string[] {
    const s = new Set<string>();
    for (const e of this.entries.values()) {
      for (const c of e.listener.config.allChains()) {
        const n = c.hcm?.config.rdsName;
        if (n) s.add(n);
      }
    }
    return [...s].sort();
  }

  /** Closes every listener and connection. */
  close(): void {
    for (const e of this.entries.values()) e.listener.close();
    this.entries.clear();
  }
}
