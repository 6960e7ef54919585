// ORIGINAL_DST / CLUSTER_PROVIDED (Istio's PASSTHROUGH): the host is the address the downstream meant to
// reach; hosts are created on first use and dropped after an idle cleanup interval, as Envoy does.
import { isIP } from 'node:net';
import { durationMs } from '../../../util/values.js';
import { Host } from '../../host.js';
import type { HostSet } from '../../host-set.js';
import type { LbContext, LoadBalancer } from '../load-balancer.js';
import type { envoy_config_cluster_v3_Cluster as ClusterConfig } from '../../../../xds/envoy-types.js';

const NO_LOCALITY = { region: '', zone: '', subZone: '' };

/** Envoy's originalDstLbConfig / cleanupInterval, compiled. */
export interface OriginalDstConfig {
  /** Read the destination from a request header (`x-envoy-original-dst-host` unless named). */
  readonly useHttpHeader: boolean;
  /** Lower-case header name carrying `ip:port`. */
  readonly headerName: string;
  /** Port that replaces the destination's port, or 0. */
  readonly upstreamPortOverride: number;
  /** How long an unused host is kept, in ms (Envoy's cleanup_interval, default 5 s). */
  readonly cleanupMs: number;
}

/** Reads a cluster's original-destination settings. */
export function originalDstConfig(cluster: ClusterConfig): OriginalDstConfig {
  const c = cluster.originalDstLbConfig ?? {};
  return {
    useHttpHeader: c.useHttpHeader === true || typeof c.httpHeaderName === 'string',
    headerName: String(c.httpHeaderName || 'x-envoy-original-dst-host').toLowerCase(),
    upstreamPortOverride: Number(c.upstreamPortOverride?.value ?? 0),
    cleanupMs: durationMs(cluster.cleanupInterval, 5000),
  };
}

/** Parses `ip:port` / `[v6]:port`; null when it is not an IP literal with a port. */
export function parseHostPort(s: string): { address: string; port: number } | null {
  let address: string;
  let port: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return null;
    address = s.slice(1, end);
    port = s.slice(end + 2);
  } else {
    const c = s.lastIndexOf(':');
    if (c < 0) return null;
    address = s.slice(0, c);
    port = s.slice(c + 1);
  }
  const p = Number(port);
  if (isIP(address) === 0 || !Number.isInteger(p) || p <= 0 || p > 65535) return null;
  return { address, port: p };
}

/** Hosts keyed by `ip:port`, created on demand from `ctx.originalDst`. */
export class OriginalDstLoadBalancer implements LoadBalancer {
  /** Live hosts by key, with the time they were last picked. */
  readonly hosts = new Map<string, { host: Host; lastUsed: number }>();

  constructor(
    readonly config: OriginalDstConfig,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(_set: HostSet): void {}

  pick(ctx: LbContext): Host | null {
    const dst = ctx.originalDst;
    if (!dst) return null;
    const e = this.hosts.get(dst);
    if (e !== undefined) {
      e.lastUsed = this.now();
      return e.host;
    }
    const hp = parseHostPort(dst);
    if (hp === null) return null;
    const port = this.config.upstreamPortOverride || hp.port;
    const host = new Host(hp.address, port, '', 1, 'HEALTHY', 0, NO_LOCALITY, null);
    this.hosts.set(dst, { host, lastUsed: this.now() });
    return host;
  }

  /** Drops hosts unused for the cleanup interval that have nothing in flight; returns them (to drain pools). */
  cleanup(): Host[] {
    const out: Host[] = [];
    const limit = this.now() - this.config.cleanupMs;
    for (const [k, e] of this.hosts) {
      if (e.lastUsed < limit && e.host.rqActive === 0) {
        this.hosts.delete(k);
        out.push(e.host);
      }
    }
    return out;
  }
}
