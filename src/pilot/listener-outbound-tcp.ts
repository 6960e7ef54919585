// Sidecar outbound listeners for non-HTTP service ports (REDIRECT mode): `VIP_PORT` (or `0.0.0.0_PORT`)
// with tcp_proxy chains from VirtualService `tcp` rules (destinationSubnets → prefix ranges) and, for
// TLS/HTTPS ports, `tls` rules selected by SNI through the tls_inspector.
import type { VirtualServiceEntry } from './push-context.js';
import type { MeshService } from '../registry/model.js';
import { virtualServiceForHost } from './route-config.js';
import { buildL4Proxy, l4Clusters, l4MatchApplies, prefixRanges, type L4Context } from './tcp-route.js';
import { ChainSet } from './filter-chain-set.js';
import type {
  envoy_config_listener_v3_FilterChain as FilterChain,
  envoy_config_listener_v3_FilterChainMatch as FilterChainMatch,
  envoy_config_listener_v3_Listener as Listener,
} from '../xds/envoy-types.js';
import {
  anyOf,
  BLACKHOLE_CLUSTER,
  FILTERS,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  socketAddress,
  TYPES,
  wrap,
} from './envoy.js';
import { tlsInspector } from './inbound-mtls.js';
import type { ProxyScope } from './scoping.js';

const MESH: ReadonlySet<string> = new Set(['mesh']);

/** One outbound TCP listener: its address, port and the services behind it. */
interface TcpListenerGroup {
  readonly address: string;
  readonly port: number;
  readonly services: MeshService[];
  /** TLS or HTTPS: connections are routed by SNI. */
  readonly tls: boolean;
}

/** The listeners of the visible services' non-HTTP ports (ports in `httpPorts` own `0.0.0.0_PORT`). */
export function buildOutboundTcpListeners(scope: ProxyScope, httpPorts: ReadonlySet<number>): Listener[] {
  const groups = new Map<string, TcpListenerGroup>();
  for (const svc of scope.services) {
    for (const p of svc.ports) {
      if (httpPorts.has(p.port) && !svc.addresses.some((a) => !a.includes('/'))) continue;
      if (p.protocol === 'UDP' || isHttpLike(p.protocol)) continue;
      const address = svc.addresses.find((a) => !a.includes('/')) ?? '0.0.0.0';
      const key = `${address}_${p.port}`;
      let g = groups.get(key);
      if (!g)
        groups.set(
          key,
          (g = { address, port: p.port, services: [], tls: p.protocol === 'TLS' || p.protocol === 'HTTPS' }),
        );
      g.services.push(svc);
    }
  }
  const out: Listener[] = [];
  for (const [name, g] of groups) {
    const chains = buildTcpChains(scope, g.port, g.services, g.tls, g.address === '0.0.0.0');
    out.push(tcpListener(name, g.address, g.port, chains, false));
  }
  return out;
}

/** A listener over `chains` (with the tls_inspector when some chain needs SNI or terminates TLS). */
export function tcpListener(
  name: string,
  address: string,
  port: number,
  chains: ChainSet,
  bind: boolean,
): Listener {
  const listener: Listener = {
    name,
    address: socketAddress(address, port),
    trafficDirection: 'OUTBOUND',
    filterChains: chains.list,
  };
  if (!bind) listener.bindToPort = wrap(false);
  if (chains.inspectsTls) listener.listenerFilters = [tlsInspector()];
  return listener;
}

/**
 * The tcp_proxy chains for `services` on `port`: their VirtualServices' tcp rules (or tls rules by SNI
 * when `tls`), else each service's own cluster. `shared`: the listener is not specific to one address,
 * so TLS services are told apart by SNI and unknown SNI follows the outbound traffic policy.
 */
export function buildTcpChains(
  scope: ProxyScope,
  port: number,
  services: readonly MeshService[],
  tls: boolean,
  shared: boolean,
): ChainSet {
  const vss = scope.virtualServices(MESH);
  const chains = new ChainSet();
  const ctx: L4Context = { scope, port, gateways: MESH };
  for (const svc of services) {
    const vs = virtualServiceForHost(vss, svc.hostname);
    const own = tls ? tlsChains(ctx, vs) : tcpChains(ctx, vs);
    for (const c of own) chains.add(c);
    // Without an applicable rule the service's own cluster takes its traffic (by SNI when the
    // listener is shared by several TLS hosts).
    if (own.length === 0 || (tls && !own.some((c) => sniOf(c).includes(svc.hostname)))) {
      const cluster = outboundClusterName(port, '', svc.hostname);
      const chain: FilterChain = { filters: [buildL4Proxy(scope, [{ name: cluster, weight: 100 }])] };
      if (tls && shared && !svc.hostname.startsWith('*'))
        chain.filterChainMatch = { serverNames: [svc.hostname] };
      chains.add(chain);
    }
  }
  if (tls && shared) {
    // Unknown SNI: passthrough (ALLOW_ANY) or dropped (REGISTRY_ONLY), like the catch-all listener.
    const c = scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
    chains.add({
      filters: [
        { name: FILTERS.TCP_PROXY, typedConfig: anyOf(TYPES.TCP_PROXY, { statPrefix: c, cluster: c }) },
      ],
    });
  }
  return chains;
}

function isHttpLike(protocol: string): boolean {
  return (
    protocol === 'HTTP' ||
    protocol === 'HTTP2' ||
    protocol === 'GRPC' ||
    protocol === 'GRPC-WEB' ||
    protocol === 'UNSUPPORTED'
  );
}

function sniOf(c: FilterChain): string[] {
  return c.filterChainMatch?.serverNames ?? [];
}

/**
 * `tcp` rules in order: a match with destinationSubnets gives a chain for those subnets; the first
 * applicable match without subnets gives the catch-all chain and ends the list (later rules are
 * unreachable, as in Istio).
 */
function tcpChains(ctx: L4Context, vs: VirtualServiceEntry | undefined): FilterChain[] {
  const out: FilterChain[] = [];
  for (const r of vs?.resource.spec.tcp ?? []) {
    const clusters = l4Clusters(ctx, r.route, vs!.namespace);
    if (clusters.length === 0) continue;
    const filters = [buildL4Proxy(ctx.scope, clusters)];
    const matches = r.match?.length ? r.match.filter((m) => l4MatchApplies(ctx, m, vs!.namespace)) : [{}];
    for (const m of matches) {
      const subnets = 'destinationSubnets' in m ? m.destinationSubnets : undefined;
      if (subnets?.length) out.push({ filterChainMatch: { prefixRanges: prefixRanges(subnets) }, filters });
      else {
        out.push({ filters });
        return out;
      }
    }
  }
  return out;
}

/** `tls` rules: a chain per applicable match, selected by its sniHosts (and destinationSubnets). */
function tlsChains(ctx: L4Context, vs: VirtualServiceEntry | undefined): FilterChain[] {
  const out: FilterChain[] = [];
  for (const r of vs?.resource.spec.tls ?? []) {
    const clusters = l4Clusters(ctx, r.route, vs!.namespace);
    if (clusters.length === 0) continue;
    for (const m of r.match ?? []) {
      if (!l4MatchApplies(ctx, m, vs!.namespace)) continue;
      const match: FilterChainMatch = { serverNames: m.sniHosts.map((h) => h.toLowerCase()) };
      if (m.destinationSubnets?.length) match.prefixRanges = prefixRanges(m.destinationSubnets);
      out.push({ filterChainMatch: match, filters: [buildL4Proxy(ctx.scope, clusters)] });
    }
  }
  return out;
}
