// Which xDS types a change of Services and DestinationRules can alter for a sidecar (the change may bring
// the app's VirtualServices, Pods and endpoints along, as deploying an app does). Every sidecar that sees
// the service needs new clusters, endpoints and routes; its listeners read Services only through:
//  - the ext_authz providers of MeshConfig (a CUSTOM policy's filter names its provider's service);
//  - its own inbound ports (the ports of the services that select its workload);
//  - the set of HTTP ports among the services it sees (one outbound listener per port, REDIRECT mode);
//  - non-HTTP ports (TCP and TLS listeners, whose tcp_proxy takes settings from DestinationRules);
//  - Sidecar egress entries with a port (local mode).
// When none of those can differ, the sidecar's listeners are not regenerated (at 2000 proxies about a
// tenth of a new service's push, `bench/listener-skip.ts`). Gateways and proxyless gRPC get every type.
import type { ConfigChange } from '../config/store.js';
import type { ProxyFilter, ProxyInfo } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import { hostsOverlap, kubeServiceHost, resolveHost } from '../registry/host.js';
import { changedWorkloads, frontsChangedWorkload } from './endpoint-change.js';
import type { PushContext } from './push-context.js';
import { isHttpPort } from './route-config.js';
import type { ProxyScope } from './scoping.js';

/** The kinds such a change may touch; any other kind in it pushes everything. */
const SERVICE_CHANGE_KINDS: ReadonlySet<string> = new Set([
  'Service',
  'DestinationRule',
  'VirtualService',
  'Pod',
  'Endpoints',
  'EndpointSlice',
  'WorkloadEntry',
]);

/** Everything but listeners. */
const ALL_BUT_LISTENERS: ReadonlySet<string> = new Set([
  TypeUrl.CLUSTER,
  TypeUrl.ENDPOINT,
  TypeUrl.ROUTE,
  TypeUrl.VIRTUAL_HOST,
  TypeUrl.SECRET,
]);

/** The push contexts on both sides of a change, and each proxy's scope in the newer one. */
export interface ServiceChangeContext {
  readonly before: PushContext;
  readonly after: PushContext;
  readonly scope: (proxy: ProxyInfo) => ProxyScope;
  /** Whether the VirtualServices changed with it can change a sidecar's listeners (false when none did). */
  readonly virtualServicesTouchListeners: boolean;
}

/**
 * The push filter of a change that touched Services or DestinationRules among the kinds above; undefined
 * (push everything) for any other change.
 */
export function serviceChangeFilter(
  change: ConfigChange,
  kinds: readonly string[],
  ctx: ServiceChangeContext,
): ProxyFilter | undefined {
  if (!kinds.every((k) => SERVICE_CHANGE_KINDS.has(k))) return undefined;
  if (!kinds.includes('Service') && !kinds.includes('DestinationRule')) return undefined;
  const hosts = new Set<string>();
  const drHosts: string[] = [];
  for (const e of change.events) {
    const r = e.type === 'deleted' ? e.previous : e.resource;
    const rs = e.type === 'updated' ? [e.previous, e.resource] : [r];
    for (const x of rs) {
      const ns = x.metadata.namespace ?? 'default';
      if (x.kind === 'Service') hosts.add(kubeServiceHost(x.metadata.name, ns));
      else if (x.kind === 'DestinationRule') {
        const host = (x.spec as { host?: unknown } | undefined)?.host;
        drHosts.push(typeof host === 'string' ? resolveHost(host, ns) : '*');
      }
    }
  }
  const changed = [
    ...ctx.before.registry.services.filter((s) => hosts.has(s.hostname)),
    ...ctx.after.registry.services.filter((s) => hosts.has(s.hostname)),
  ];
  const httpPorts = new Set<number>();
  let nonHttp = false;
  for (const s of changed)
    for (const p of s.ports) {
      if (isHttpPort(p.protocol)) httpPorts.add(p.port);
      else nonHttp = true;
    }
  // Listeners of every sidecar: a non-HTTP port changed, a DestinationRule that may give a tcp_proxy its
  // settings changed, or the VirtualServices say so.
  const everyListener =
    ctx.virtualServicesTouchListeners ||
    // A CUSTOM AuthorizationPolicy's ext_authz filter names its provider's service as found in the registry.
    ctx.before.mesh.extAuthz.providers.size > 0 ||
    ctx.after.mesh.extAuthz.providers.size > 0 ||
    nonHttp ||
    (drHosts.length > 0 && drTouchesL4(drHosts, ctx.before, ctx.after));
  const workloads = changedWorkloads(ctx.before.registry.workloads, ctx.after.registry.workloads);
  return (p) => {
    if (p.id.startsWith('router~') || p.metadata.GENERATOR === 'grpc') return 'all';
    if (everyListener || frontsChangedWorkload(p.id, workloads)) return 'all';
    const scope = ctx.scope(p);
    if (scope.proxy.type !== 'sidecar') return 'all';
    if (!sameInboundPorts(scope, ctx.before, ctx.after)) return 'all';
    if (scope.sidecar?.spec?.egress?.some((l) => (l.port?.number ?? 0) > 0)) return 'all';
    if (scope.proxy.interceptionMode !== 'NONE' && httpPortSetMayChange(scope, httpPorts, hosts))
      return 'all';
    return ALL_BUT_LISTENERS;
  };
}

/** Whether the proxy's inbound ports (the services that select its workload) are the same on both sides. */
function sameInboundPorts(scope: ProxyScope, before: PushContext, after: PushContext): boolean {
  const { ip, namespace } = scope.proxy;
  const name = scope.workload?.name;
  return (
    JSON.stringify(before.registry.inboundPorts(ip, namespace, name)) ===
    JSON.stringify(after.registry.inboundPorts(ip, namespace, name))
  );
}

/**
 * Whether the set of HTTP ports among the services the proxy sees may differ: a changed service's HTTP
 * port that no unchanged visible service also has. (Unchanged services keep their visibility: the kinds
 * that decide it, Sidecar and the services' own exportTo, did not change.)
 */
function httpPortSetMayChange(
  scope: ProxyScope,
  ports: ReadonlySet<number>,
  changedHosts: ReadonlySet<string>,
): boolean {
  if (ports.size === 0) return false;
  const held = new Set<number>();
  for (const s of scope.services) {
    if (changedHosts.has(s.hostname)) continue;
    for (const p of s.ports) if (isHttpPort(p.protocol) && ports.has(p.port)) held.add(p.port);
    if (held.size === ports.size) return false;
  }
  return true;
}

/** Whether a DestinationRule for one of `hosts` can reach a tcp_proxy: a non-HTTP service or a tcp/tls rule's host. */
function drTouchesL4(hosts: readonly string[], before: PushContext, after: PushContext): boolean {
  const l4: string[] = [];
  for (const push of [before, after]) {
    for (const s of push.registry.services)
      if (s.ports.some((p) => !isHttpPort(p.protocol))) l4.push(s.hostname);
    for (const vs of push.virtualServices) {
      const spec = vs.resource.spec;
      if ((spec.tcp?.length ?? 0) > 0 || (spec.tls?.length ?? 0) > 0) return true;
    }
  }
  return hosts.some((h) => l4.some((t) => hostsOverlap(h, t)));
}
