// The control plane wired together (Istio's DiscoveryServer): config store → push context → ADS
// server with the pilot generator, pushes on change, and the debug HTTP server.
import { setGeneratorWarningSink } from './generator-warnings.js';
import type { ConfigChange, ConfigStore } from '../config/store.js';
import { AdsServer, type ProxyFilter, type ProxyInfo } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import { stderrLogger, type XdsLogger } from '../xds/logger.js';
import type { ServerKeepalive } from '../xds/server-keepalive.js';
import { DnsCache } from '../registry/dns.js';
import { hostsOverlap } from '../registry/host.js';
import { buildPushContext, type PushContext, type VirtualServiceEntry } from './push-context.js';
import { customWarnings } from './authz/ext-authz-filters.js';
import { telemetryWarnings } from './telemetry/telemetry-warnings.js';
import type { ProxyScope } from './scoping.js';
import { Generator } from './generator.js';
import { endpointChange, frontsChangedWorkload, type EndpointChange } from './endpoint-change.js';
import { serviceChangeFilter } from './service-change.js';
import { DebugServer, type HttpRoutes } from './debug-http.js';
import { startCa, type CaOptions } from '../ca/start-ca.js';
import type { CaServer } from '../ca/ca-server.js';

/** Settings of a {@link DiscoveryServer}. */
export interface DiscoveryOptions {
  readonly store: ConfigStore;
  /** xDS gRPC address `host:port` (port 0 = pick). */
  readonly xdsAddress: string;
  /** Debug HTTP address `host:port` (port 0 = pick); null = no debug server. */
  readonly debugAddress: string | null;
  /** Push debounce quiet period, ms (default 100). */
  readonly debounceMs?: number;
  /** HTTP/2 keepalive and connection age towards the proxies (AdsServerOptions.keepalive); default istiod's. */
  readonly xdsKeepalive?: Partial<ServerKeepalive>;
  /** A proxy taking no byte of a response this long is evicted, ms; 0: never (AdsServerOptions.sendTimeoutMs). */
  readonly xdsSendTimeoutMs?: number;
  readonly log?: XdsLogger;
  /** Told when proxies connect and disconnect (WorkloadEntry auto-registration). */
  readonly proxyLifecycle?: {
    connected(proxy: ProxyInfo): void;
    disconnected(proxy: ProxyInfo): void;
  };
  /** Extra HTTP handlers on the debug server (the config API); return true when handled. */
  readonly httpRoutes?: HttpRoutes;
  /** The CA served on the xDS port (default: a root in memory, no tokens accepted). */
  readonly ca?: CaOptions;
}

/** Bound addresses after start. */
export interface DiscoveryAddresses {
  readonly xds: string;
  readonly debug: string | null;
}

/** Kinds whose changes only gateways read (Secrets are not among them: sidecars read DestinationRule credentialName Secrets). */
const GATEWAY_ONLY = new Set(['Gateway']);
/** Kinds the control plane does not read at all. */
const IGNORED = new Set(['Deployment', 'ServiceAccount', 'Namespace']);

/**
 * Kinds a sidecar reads only into listeners and routes: its clusters and endpoints are built from
 * Services, DestinationRules and the registry (Istio skips CDS/EDS for these as well).
 */
const ROUTING_ONLY = new Set(['VirtualService', ...GATEWAY_ONLY]);
const LISTENERS_AND_ROUTES: ReadonlySet<string> = new Set([
  TypeUrl.LISTENER,
  TypeUrl.ROUTE,
  TypeUrl.VIRTUAL_HOST,
]);
const ROUTES_ONLY: ReadonlySet<string> = new Set([TypeUrl.ROUTE, TypeUrl.VIRTUAL_HOST]);

const MESH: ReadonlySet<string> = new Set(['mesh']);

/** Kinds that only feed workload instances and endpoints into the registry. */
const ENDPOINT_KINDS = new Set(['Pod', 'Endpoints', 'EndpointSlice', 'WorkloadEntry']);
const ENDPOINTS_ONLY: ReadonlySet<string> = new Set([TypeUrl.ENDPOINT]);
const CLUSTERS_AND_ENDPOINTS: ReadonlySet<string> = new Set([TypeUrl.CLUSTER, TypeUrl.ENDPOINT]);

/**
 * The endpoint-only change between two push contexts, when the change touched only Pods, Endpoints,
 * EndpointSlices or WorkloadEntries and left every service (hosts, ports, resolution, exportTo) as it was.
 */
export function endpointOnlyChange(change: ConfigChange, ctx: ChangeContext): EndpointChange | null {
  const kinds = [...change.kinds].filter((k) => !IGNORED.has(k));
  if (kinds.length === 0 || !kinds.every((k) => ENDPOINT_KINDS.has(k))) return null;
  return endpointChange(ctx.before.registry, ctx.after.registry);
}

/** The push contexts on both sides of a change, and each proxy's scope in the newer one. */
export interface ChangeContext {
  readonly before: PushContext;
  readonly after: PushContext;
  readonly scope: (proxy: ProxyInfo) => ProxyScope;
}

/**
 * Which proxies a change concerns and which types it can change for each (cheap rules; anything else
 * regenerates every type for every proxy). Null = nothing to push. With the push contexts, a
 * VirtualService-only change reaches just the sidecars that see one of the changed VirtualServices
 * before or after the change (exportTo, Sidecar egress hosts, `mesh` among its gateways), like Istio's
 * per-proxy "depends on config" check.
 */
export function affectedProxies(change: ConfigChange, ctx?: ChangeContext): ProxyFilter | undefined | null {
  const kinds = [...change.kinds].filter((k) => !IGNORED.has(k));
  if (kinds.length === 0) return null;
  if (kinds.every((k) => GATEWAY_ONLY.has(k))) return (p) => p.id.startsWith('router~');
  const endpoints = ctx ? endpointOnlyChange(change, ctx) : null;
  if (endpoints) {
    if (endpoints.hosts.size === 0 && endpoints.workloads.size === 0) return null;
    // EDS only (CDS too where endpoints live in STRICT_DNS clusters); the changed workloads' own proxies
    // get everything (their inbound listeners, clusters and labels may have changed).
    const types = endpoints.dnsHosts ? CLUSTERS_AND_ENDPOINTS : ENDPOINTS_ONLY;
    return (p) =>
      frontsChangedWorkload(p.id, endpoints.workloads) ? 'all' : endpoints.hosts.size > 0 ? types : null;
  }
  if (kinds.every((k) => ROUTING_ONLY.has(k))) {
    const changed = ctx ? changedVirtualServices(change, ctx) : null;
    // A sidecar's listeners read VirtualServices only through tcp and tls rules.
    const sidecarTypes =
      changed === null || sidecarListenersMayChange(changed, ctx!) ? LISTENERS_AND_ROUTES : ROUTES_ONLY;
    // Gateways and proxyless gRPC clients derive clusters from routes: they get every type.
    return (p) => {
      if (p.id.startsWith('router~') || p.metadata.GENERATOR === 'grpc') return 'all';
      if (changed === null) return LISTENERS_AND_ROUTES;
      const scope = ctx!.scope(p);
      return changed.some((vs) => scope.seesVirtualService(vs, MESH)) ? sidecarTypes : null;
    };
  }
  if (ctx) {
    // Services and DestinationRules (an app deployed or changed): sidecars keep their listeners unless
    // something they are built from may have changed.
    const vss = kinds.includes('VirtualService') ? changedVirtualServices(change, ctx) : [];
    const virtualServicesTouchListeners =
      vss === null || (vss.length > 0 && sidecarListenersMayChange(vss, ctx));
    return serviceChangeFilter(change, kinds, { ...ctx, virtualServicesTouchListeners });
  }
  return undefined;
}

/** Whether a VirtualService has tcp or tls rules (the only rules a sidecar's listeners are built from). */
function hasL4Rules(vs: VirtualServiceEntry): boolean {
  const spec = vs.resource.spec;
  return (spec.tcp?.length ?? 0) > 0 || (spec.tls?.length ?? 0) > 0;
}

/**
 * Whether changing these VirtualServices can change a sidecar's listeners. Listeners take a TCP or TLS
 * port's filter chains from the tcp and tls rules of the VirtualService that applies to each host there
 * (an exact host before the longest wildcard). So they can change only when a changed VirtualService has
 * such rules, before or after the change, or shares a host with one that has them (which of the two
 * applies to that host may change). Otherwise a sidecar gets RDS and VHDS only.
 */
export function sidecarListenersMayChange(
  changed: readonly VirtualServiceEntry[],
  ctx: ChangeContext,
): boolean {
  if (changed.some(hasL4Rules)) return true;
  const l4Hosts = new Set<string>();
  for (const push of [ctx.before, ctx.after])
    for (const vs of push.virtualServices) if (hasL4Rules(vs)) for (const h of vs.hosts) l4Hosts.add(h);
  for (const vs of changed)
    for (const h of vs.hosts) for (const t of l4Hosts) if (hostsOverlap(h, t)) return true;
  return false;
}

/**
 * The changed VirtualServices as resolved before and after the change; null when a sidecar's view
 * cannot be told from them (a delegate has no hosts of its own: its root decides who sees it).
 */
function changedVirtualServices(change: ConfigChange, ctx: ChangeContext): VirtualServiceEntry[] | null {
  const out: VirtualServiceEntry[] = [];
  for (const e of change.events) {
    const r = e.type === 'deleted' ? e.previous : e.resource;
    if (r.kind !== 'VirtualService') continue;
    const key = `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
    for (const vs of [ctx.before.virtualServicesByName.get(key), ctx.after.virtualServicesByName.get(key)]) {
      if (!vs) continue;
      if (vs.hosts.length === 0) return null;
      out.push(vs);
    }
  }
  return out;
}

/** Runs the control plane over a config store. */
export class DiscoveryServer {
  readonly ads: AdsServer;
  readonly generator: Generator;
  readonly dns: DnsCache;
  private push: PushContext;
  private debug: DebugServer | null = null;
  /** The CA, once started. */
  ca: CaServer | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: DiscoveryOptions) {
    // New DNS answers change only what proxyless gRPC clients get (EDS with resolved addresses).
    this.dns = new DnsCache({
      onChange: () => {
        this.push = buildPushContext(this.push.snapshot, this.dns, this.push, new Set());
        this.ads.requestPush((p) => p.metadata.GENERATOR === 'grpc');
      },
    });
    this.push = buildPushContext(options.store.snapshot(), this.dns);
    this.generator = new Generator(() => this.push);
    this.ads = new AdsServer({
      address: options.xdsAddress,
      generate: (proxy, typeUrl, names) => this.generator.generate(proxy, typeUrl, names),
      debounceMs: options.debounceMs,
      keepalive: options.xdsKeepalive,
      sendTimeoutMs: options.xdsSendTimeoutMs,
      log: options.log,
      // Pilot builds new objects for every push and never mutates one it returned.
      immutableResources: true,
      onProxyConnected: options.proxyLifecycle && ((p) => options.proxyLifecycle!.connected(p)),
      onProxyDisconnected: options.proxyLifecycle && ((p) => options.proxyLifecycle!.disconnected(p)),
    });
  }

  private lastTelemetryWarnings = '';
  private lastCustomWarnings = '';

  /** Logs AuthorizationPolicy CUSTOM / ext_authz provider problems, once per change of that list. */
  private warnCustom(): void {
    const w = customWarnings(this.push).join('\n');
    if (w !== this.lastCustomWarnings && w !== '')
      (this.options.log ?? stderrLogger)(
        'warn',
        `external authorization (CUSTOM) problems:\n  ${w.split('\n').join('\n  ')}`,
      );
    this.lastCustomWarnings = w;
  }

  /** Logs Telemetry/MeshConfig settings that have no effect, once per change of that list. */
  private warnTelemetry(): void {
    const w = telemetryWarnings(this.push).join('\n');
    if (w !== this.lastTelemetryWarnings && w !== '')
      (this.options.log ?? stderrLogger)(
        'warn',
        `telemetry settings with no effect:\n  ${w.split('\n').join('\n  ')}`,
      );
    this.lastTelemetryWarnings = w;
  }

  /** The push context being served. */
  pushContext(): PushContext {
    return this.push;
  }

  /** Starts the store, the ADS server and the debug server; resolves with the bound addresses. */
  async start(): Promise<DiscoveryAddresses> {
    await this.options.store.start();
    this.push = buildPushContext(this.options.store.snapshot(), this.dns);
    this.warnTelemetry();
    setGeneratorWarningSink((m) => (this.options.log ?? stderrLogger)('warn', m));
    this.warnCustom();
    this.unsubscribe = this.options.store.subscribe((change) => {
      const before = this.push;
      this.push = buildPushContext(change.snapshot, this.dns, this.push, change.kinds);
      this.warnTelemetry();
      this.warnCustom();
      if (before.mesh.trustDomain !== this.push.mesh.trustDomain)
        this.options.log?.(
          'warn',
          `MeshConfig trustDomain changed from ${before.mesh.trustDomain} to ${this.push.mesh.trustDomain}: ` +
            'clients now expect the new one, but certificates already issued keep the old one until they ' +
            'rotate (trustDomainAliases is not supported), so mutual TLS to those workloads fails until then',
        );
      const filter = affectedProxies(change, {
        before,
        after: this.push,
        scope: (p) => this.generator.scope(p),
      });
      if (filter !== null) this.ads.requestPush(filter);
    });
    const log = this.options.log;
    this.ca = await startCa(
      this.ads,
      this.options.ca ?? { dir: null },
      () => this.push.mesh.trustDomain,
      (level, message) => log?.(level, message),
    );
    const xdsPort = await this.ads.listen();
    const xdsHost = this.options.xdsAddress.slice(0, this.options.xdsAddress.lastIndexOf(':'));
    let debug: string | null = null;
    if (this.options.debugAddress !== null) {
      const i = this.options.debugAddress.lastIndexOf(':');
      const host = this.options.debugAddress.slice(0, i);
      this.debug = new DebugServer({
        store: this.options.store,
        ads: this.ads,
        generator: this.generator,
        push: () => this.push,
        routes: this.options.httpRoutes,
      });
      const port = await this.debug.listen(host, Number(this.options.debugAddress.slice(i + 1)));
      debug = `${host}:${port}`;
    }
    return { xds: `${xdsHost}:${xdsPort}`, debug };
  }

  /** Stops everything. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.dns.close();
    await this.ads.close();
    await this.debug?.close();
    await this.options.store.close();
  }
}
