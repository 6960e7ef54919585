// The pilot entry point: (PushContext, proxy, type URL, names) → Envoy resources in canonical form,
// memoized per push context and proxy.
import type { ProxyInfo } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import { parseProxy } from './proxy.js';
import { ProxyScope } from './scoping.js';
import type { PushContext } from './push-context.js';
import {
  buildOutboundRouteConfig,
  buildHttpProxyRouteConfig,
  HTTP_PROXY_ROUTE,
  outboundHttpPorts,
  vhdsRouteConfig,
  vhdsVirtualHosts,
} from './route-config.js';
import {
  buildHttpProxyListener,
  buildOutboundListeners,
  buildVirtualOutboundListener,
} from './listener-outbound.js';
import {
  buildInboundClusters,
  buildLocalInboundListeners,
  buildVirtualInboundListener,
} from './listener-inbound.js';
import { buildBlackHoleCluster, buildOutboundClusters, buildPassthroughCluster } from './cluster.js';
import { buildLoadAssignment } from './endpoints.js';
import {
  autoPassthroughServers,
  buildGatewayListeners,
  buildGatewayRouteConfig,
  gatewayRouteNames,
} from './listener-gateway.js';
import { buildSniDnatClusters } from './sni-dnat.js';
import { buildGrpcClusters, buildGrpcListeners, buildGrpcRouteConfig } from './proxyless-grpc.js';
import { buildSecret } from './secrets.js';
import { buildSidecarEgressListeners } from './listener-sidecar-egress.js';
import { applyListenerTelemetry } from './telemetry/listener-telemetry.js';
import type { Envoy } from './envoy.js';
import type {
  envoy_config_cluster_v3_Cluster as Cluster,
  envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment,
  envoy_config_listener_v3_Listener as Listener,
  envoy_config_route_v3_RouteConfiguration as RouteConfiguration,
  envoy_config_route_v3_VirtualHost as VirtualHost,
  envoy_extensions_transport_sockets_tls_v3_Secret as Secret,
} from '../xds/envoy-types.js';
import { outboundHost, type EndpointChange } from './endpoint-change.js';
import { withSharedPrefix } from '../xds/encoded-list.js';

/**
 * Resources shared by every proxy with one config key under one push context: proxies with equal keys get
 * equal route configs, outbound clusters and endpoints (replicas share them). Maps per kind, by name, so a
 * lookup for thousands of names builds no key strings.
 */
interface SharedGroup {
  outboundClusters?: Cluster[];
  readonly routes: Map<string, RouteConfiguration | null>;
  /** Sidecars on VHDS: their route configs without virtual hosts, and the virtual hosts per route config. */
  readonly vhdsRoutes: Map<string, RouteConfiguration | null>;
  readonly virtualHosts: Map<string, VirtualHost[] | null>;
  readonly endpoints: Map<string, ClusterLoadAssignment | null>;
}

/** Per proxy and push: the scope and every resource generated so far. */
interface ProxyCache {
  readonly scope: ProxyScope;
  readonly group: SharedGroup;
  listeners?: Listener[];
  clusters?: Cluster[];
  /** Secrets by name (not shared: a gateway's credentials are its own). */
  readonly secrets: Map<string, Secret | null>;
  /** Route configs go as VHDS stubs plus virtual hosts (a sidecar that asked for VHDS). */
  readonly vhds: boolean;
}

const labelKeysByPush = new WeakMap<PushContext, ReadonlySet<string>>();

/**
 * Label keys that can change a sidecar's shared resources: VirtualService `sourceLabels` (http, tcp,
 * tls) and DestinationRule `workloadSelector`s (Sidecar selection is in the key on its own). Other
 * labels cannot change them, so sidecars that differ only there share one generation.
 */
function relevantLabelKeys(push: PushContext): ReadonlySet<string> {
  let keys = labelKeysByPush.get(push);
  if (keys) return keys;
  const out = new Set<string>();
  const add = (sel: Readonly<Record<string, string>> | undefined): void => {
    if (sel) for (const k of Object.keys(sel)) out.add(k);
  };
  for (const vs of push.virtualServices) {
    const spec = vs.resource.spec;
    for (const r of spec.http ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
    for (const r of spec.tcp ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
    for (const r of spec.tls ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
  }
  for (const drs of push.destinationRules.values())
    for (const dr of drs) add(dr.resource.spec.workloadSelector?.matchLabels);
  keys = out;
  labelKeysByPush.set(push, keys);
  return keys;
}

/** Everything besides the push context that route configs, outbound clusters and endpoints depend on. */
function configKeyOf(scope: ProxyScope): string {
  const p = scope.proxy;
  // Gateways select Gateway resources by any label, so they keep all of theirs.
  const keys = p.type === 'sidecar' ? relevantLabelKeys(scope.push) : null;
  const labels = Object.entries(p.labels)
    .filter(([k]) => keys === null || keys.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sidecar = scope.sidecar ? `${scope.sidecar.metadata.namespace}/${scope.sidecar.metadata.name}` : '';
  return JSON.stringify([
    p.type,
    p.namespace,
    labels,
    p.generator,
    p.interceptionMode,
    p.gatewayPortOffset,
    sidecar,
    p.locality,
    p.noSidecar,
  ]);
}

/**
 * What a proxy looks like to the generator (the ADS server's ProxyInfo, or a hand-made one in tests and
 * debug views). Without `vhds`, route configs come whole.
 */
export type ProxyRef = Pick<ProxyInfo, 'id' | 'metadata' | 'node'> & { readonly vhds?: boolean };

/** Generates Envoy resources per proxy from the current push context; results are memoized per push. */
export class Generator {
  private cache = new WeakMap<PushContext, Map<string, ProxyCache>>();
  /** Resources shared by proxies with the same config key, per push context. */
  private shared = new WeakMap<PushContext, Map<string, SharedGroup>>();
  /** Push contexts that differ from an earlier one by endpoints only: their groups start from its groups. */
  private inherited = new WeakMap<PushContext, { from: PushContext; change: EndpointChange }>();

  constructor(private readonly pushContext: () => PushContext) {}

  /**
   * Declares that `push` differs from `from` by the endpoints of `change.hosts` only: shared groups of
   * `push` start with `from`'s route configs, outbound clusters (unless a changed host is resolved by DNS,
   * whose endpoints are in CDS) and the load assignments of unchanged hosts, as the same objects. So an
   * endpoint change regenerates (and encodes, and sends over delta xDS) just the affected load assignments.
   */
  inherit(push: PushContext, from: PushContext, change: EndpointChange): void {
    this.inherited.set(push, { from, change });
  }

  /** The proxy's scope under the current push context. */
  scope(proxy: ProxyRef): ProxyScope {
    return this.entry(proxy).scope;
  }

  /** Resources of `typeUrl` for the proxy; `names` empty = everything (LDS/CDS wildcard). */
  generate(proxy: ProxyRef, typeUrl: string, names: readonly string[]): readonly Envoy[] {
    const e = this.entry(proxy);
    const scope = e.scope;
    const grpc = scope.proxy.generator === 'grpc';
    switch (typeUrl) {
      case TypeUrl.LISTENER:
        if (grpc) return served(buildGrpcListeners(scope, names));
        e.listeners ??= applyListenerTelemetry(scope, buildListeners(scope));
        return served(pick(e.listeners, names));
      case TypeUrl.CLUSTER:
        if (grpc) return served(buildGrpcClusters(scope, names));
        // The group's outbound clusters, one list every proxy of it shares, then the proxy's own.
        e.clusters ??= withSharedPrefix(
          (e.group.outboundClusters ??= buildOutboundClusters(scope, { grpc: false })),
          buildLocalClusters(scope),
        );
        return served(pick(e.clusters, names));
      case TypeUrl.ROUTE:
        if (e.vhds) {
          const full = e.group.routes;
          return served(
            byName(e.group.vhdsRoutes, names, (n) => {
              const rc = sidecarRoute(full, scope, n);
              return rc && vhdsRouteConfig(rc);
            }),
          );
        }
        return served(
          byName(e.group.routes, names, (n) =>
            grpc
              ? buildGrpcRouteConfig(scope, n)
              : scope.proxy.type === 'router'
                ? buildGatewayRouteConfig(scope, n)
                : buildSidecarRouteConfig(scope, n),
          ),
        );
      case TypeUrl.VIRTUAL_HOST: {
        // Names are route config names (VHDS subscribes by namespace): their virtual hosts, in order.
        if (!e.vhds) return [];
        const full = e.group.routes;
        return served(
          flatByName(e.group.virtualHosts, names, (n) => {
            const rc = sidecarRoute(full, scope, n);
            return rc && vhdsVirtualHosts(rc);
          }),
        );
      }
      case TypeUrl.ENDPOINT:
        return served(byName(e.group.endpoints, names, (n) => buildLoadAssignment(scope, n, { grpc })));
      case TypeUrl.SECRET:
        return served(byName(e.secrets, names, (n) => buildSecret(scope, n)));
      default:
        return [];
    }
  }

  /**
   * The proxy's route configs whole, virtual hosts included, whether it gets them over VHDS or not: what
   * it routes by once VHDS has filled them in (for debug views, explain and config health).
   */
  wholeRouteConfigs(proxy: ProxyRef, names: readonly string[]): readonly Envoy[] {
    const ref = proxy.vhds ? { id: proxy.id, metadata: proxy.metadata, node: proxy.node } : proxy;
    return this.generate(ref, TypeUrl.ROUTE, names);
  }

  /** Names of every route config the proxy's listeners refer to (for debug dumps). */
  routeNames(proxy: ProxyRef): string[] {
    const scope = this.entry(proxy).scope;
    if (scope.proxy.type === 'router') return gatewayRouteNames(scope);
    if (scope.proxy.interceptionMode === 'NONE') return [HTTP_PROXY_ROUTE];
    return outboundHttpPorts(scope).map(String);
  }

  private entry(proxy: ProxyRef): ProxyCache {
    const push = this.pushContext();
    let perPush = this.cache.get(push);
    if (!perPush) this.cache.set(push, (perPush = new Map<string, ProxyCache>()));
    const key = `${proxy.id}\n${JSON.stringify(proxy.metadata ?? {})}\n${JSON.stringify(proxy.node?.locality ?? {})}${proxy.vhds === true ? '\nvhds' : ''}`;
    let e = perPush.get(key);
    if (!e) {
      const scope = new ProxyScope(push, parseProxy(proxy));
      // VHDS is for sidecars' outbound route configs; gateways and proxyless gRPC get theirs whole.
      const vhds = proxy.vhds === true && scope.proxy.type === 'sidecar' && scope.proxy.generator !== 'grpc';
      perPush.set(
        key,
        (e = { scope, group: this.group(push, configKeyOf(scope)), secrets: new Map(), vhds }),
      );
    }
    return e;
  }

  private group(push: PushContext, configKey: string): SharedGroup {
    let groups = this.shared.get(push);
    if (!groups) this.shared.set(push, (groups = new Map<string, SharedGroup>()));
    let g = groups.get(configKey);
    if (!g) groups.set(configKey, (g = this.inheritedGroup(push, configKey)));
    return g;
  }

  private inheritedGroup(push: PushContext, configKey: string): SharedGroup {
    const inh = this.inherited.get(push);
    const old = inh && this.shared.get(inh.from)?.get(configKey);
    if (!inh || !old)
      return { routes: new Map(), vhdsRoutes: new Map(), virtualHosts: new Map(), endpoints: new Map() };
    const endpoints = new Map<string, ClusterLoadAssignment | null>();
    for (const [name, cla] of old.endpoints) {
      const host = outboundHost(name);
      if (host !== null && !inh.change.hosts.has(host)) endpoints.set(name, cla);
    }
    return {
      outboundClusters: inh.change.dnsHosts ? undefined : old.outboundClusters,
      routes: new Map(old.routes),
      vhdsRoutes: new Map(old.vhdsRoutes),
      virtualHosts: new Map(old.virtualHosts),
      endpoints,
    };
  }
}

/**
 * Lists byName returned, per cache and (frozen) name list: the xDS server hands every proxy subscribed to the
 * same names the same frozen list, so they all get the same output list (which it then encodes once).
 */
const listsByCache = new WeakMap<object, WeakMap<readonly string[], readonly object[]>>();

/** The named resources, each built once per cache. */
function byName<T extends object>(
  cache: Map<string, T | null>,
  names: readonly string[],
  build: (name: string) => T | null,
): readonly T[] {
  return listFor<T, T>(cache, names, build, addOne);
}

/** As {@link byName} for builders that return a list per name: the lists of `names`, concatenated. */
function flatByName<T extends object>(
  cache: Map<string, T[] | null>,
  names: readonly string[],
  build: (name: string) => T[] | null,
): readonly T[] {
  return listFor<T[], T>(cache, names, build, addAll);
}

function addOne<T>(r: T, out: T[]): void {
  out.push(r);
}

function addAll<T>(list: readonly T[], out: T[]): void {
  for (const r of list) out.push(r);
}

/** What each name built (once per cache) added to one list, memoized per cache for frozen name lists. */
function listFor<B extends object, T extends object>(
  cache: Map<string, B | null>,
  names: readonly string[],
  build: (name: string) => B | null,
  add: (built: B, out: T[]) => void,
): readonly T[] {
  // A cache only gains entries, so the list for frozen names stays right for the cache's lifetime.
  const memo = Object.isFrozen(names);
  const known = memo ? listsByCache.get(cache)?.get(names) : undefined;
  if (known) return known as readonly T[];
  const out: T[] = [];
  for (const n of names) {
    let built = cache.get(n);
    if (built === undefined) {
      built = build(n);
      cache.set(n, built);
    }
    if (built) add(built, out);
  }
  if (memo) {
    let lists = listsByCache.get(cache);
    if (!lists) listsByCache.set(cache, (lists = new WeakMap()));
    lists.set(names, out);
  }
  return out;
}

function pick<T extends { name?: string }>(all: T[], names: readonly string[]): T[] {
  if (names.length === 0) return all;
  const want = new Set(names);
  return all.filter((r) => want.has(r.name ?? ''));
}

/**
 * Typed resources as the xDS server sees every type: canonical objects it names, encodes and compares.
 * Only the static type widens (the compiler checked them against their Envoy message when they were
 * built); they stay the same objects, as encodings are cached per object.
 */
function served(resources: readonly object[]): readonly Envoy[] {
  return resources as readonly Envoy[];
}

function buildListeners(scope: ProxyScope): Listener[] {
  if (scope.proxy.type === 'router') return buildGatewayListeners(scope);
  if (scope.proxy.noSidecar)
    // Local mode's kube-proxy stand-in: outbound only (captured in pod mode, HTTP_PROXY in host mode).
    return scope.proxy.interceptionMode === 'NONE'
      ? [buildHttpProxyListener(scope)]
      : [buildVirtualOutboundListener(scope), ...buildOutboundListeners(scope)];
  if (scope.proxy.interceptionMode === 'NONE')
    return [
      ...buildLocalInboundListeners(scope),
      buildHttpProxyListener(scope),
      ...buildSidecarEgressListeners(scope),
    ];
  return [
    buildVirtualOutboundListener(scope),
    buildVirtualInboundListener(scope),
    ...buildOutboundListeners(scope),
  ];
}

/** The clusters that depend on the proxy's own workload, plus the special clusters. */
function buildLocalClusters(scope: ProxyScope): Cluster[] {
  const out = scope.proxy.type === 'sidecar' && !scope.proxy.noSidecar ? buildInboundClusters(scope) : [];
  if (scope.proxy.type === 'router') out.push(...buildSniDnatClusters(scope, autoPassthroughServers(scope)));
  out.push(buildBlackHoleCluster(), buildPassthroughCluster());
  return out;
}

/** A sidecar's whole route config `name`, built once per shared group (VHDS stubs and hosts derive from it). */
function sidecarRoute(
  cache: Map<string, RouteConfiguration | null>,
  scope: ProxyScope,
  name: string,
): RouteConfiguration | null {
  let rc = cache.get(name);
  if (rc === undefined) cache.set(name, (rc = buildSidecarRouteConfig(scope, name)));
  return rc;
}

function buildSidecarRouteConfig(scope: ProxyScope, name: string): RouteConfiguration | null {
  if (name === HTTP_PROXY_ROUTE) return buildHttpProxyRouteConfig(scope);
  const port = Number(name);
  if (!Number.isInteger(port) || port <= 0) return null;
  return buildOutboundRouteConfig(scope, port);
}
