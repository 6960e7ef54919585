// The control plane wired together (Istio's DiscoveryServer): config store → push context → ADS
// server with the pilot generator, pushes on change, and the debug HTTP server.
import type { ConfigChange, ConfigStore } from '../config/store.js';
import { AdsServer, type ProxyFilter } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import type { XdsLogger } from '../xds/logger.js';
import { DnsCache } from '../registry/dns.js';
import { buildPushContext, type PushContext } from './push-context.js';
import { Generator } from './generator.js';
import { DebugServer } from './debug-http.js';

/** Settings of a {@link DiscoveryServer}. */
export interface DiscoveryOptions {
  readonly store: ConfigStore;
  /** xDS gRPC address `host:port` (port 0 = pick). */
  readonly xdsAddress: string;
  /** Debug HTTP address `host:port` (port 0 = pick); null = no debug server. */
  readonly debugAddress: string | null;
  /** Push debounce quiet period, ms (default 100). */
  readonly debounceMs?: number;
  readonly log?: XdsLogger;
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
const LISTENERS_AND_ROUTES: ReadonlySet<string> = new Set([TypeUrl.LISTENER, TypeUrl.ROUTE]);

/**
 * Which proxies a change concerns and which types it can change for each (cheap rules; anything else
 * regenerates every type for every proxy). Null = nothing to push.
 */
export function affectedProxies(change: ConfigChange): ProxyFilter | undefined | null {
  const kinds = [...change.kinds].filter((k) => !IGNORED.has(k));
  if (kinds.length === 0) return null;
  if (kinds.every((k) => GATEWAY_ONLY.has(k))) return (p) => p.id.startsWith('router~');
  if (kinds.every((k) => ROUTING_ONLY.has(k))) {
    // Gateways and proxyless gRPC clients derive clusters from routes: they get every type.
    return (p) =>
      p.id.startsWith('router~') || p.metadata.GENERATOR === 'grpc' ? 'all' : LISTENERS_AND_ROUTES;
  }
  return undefined;
}

/** Runs the control plane over a config store. */
export class DiscoveryServer {
  readonly ads: AdsServer;
  readonly generator: Generator;
  readonly dns: DnsCache;
  private push: PushContext;
  private debug: DebugServer | null = null;
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
      log: options.log,
      // Pilot builds new objects for every push and never mutates one it returned.
      immutableResources: true,
    });
  }

  /** The push context being served. */
  pushContext(): PushContext {
    return this.push;
  }

  /** Starts the store, the ADS server and the debug server; resolves with the bound addresses. */
  async start(): Promise<DiscoveryAddresses> {
    await this.options.store.start();
    this.push = buildPushContext(this.options.store.snapshot(), this.dns);
    this.unsubscribe = this.options.store.subscribe((change) => {
      this.push = buildPushContext(change.snapshot, this.dns, this.push, change.kinds);
      const filter = affectedProxies(change);
      if (filter !== null) this.ads.requestPush(filter);
    });
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
