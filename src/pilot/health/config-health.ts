// The dashboard's config health: every resource with its state (applied, warnings incl. analyzer IST
// codes, rejected with file:line:col), which proxies it reaches, and each proxy's per-type xDS sync
// state with its last NACK (as `istioctl proxy-status`). A pure function of what the server holds.
import { formatDiagnostic, type Diagnostic } from '../../api/diagnostic.js';
import type { ConfigState, StoreStatus } from '../../config/store.js';
import type { ProxySyncStatus } from '../../xds/ads-server.js';

/** A diagnostic with its one-line text (`file:line:col: path: message`). */
export interface HealthDiagnostic extends Diagnostic {
  readonly text: string;
}

/** One resource (or a document that could not become one). */
export interface ResourceHealth {
  /** `Kind namespace/name`, or `<file>:<line>` for a document without a usable identity. */
  readonly resource: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** applied = ok; warning = applied with warnings (validation or analyzers); rejected = not served. */
  readonly state: 'applied' | 'warning' | 'rejected';
  readonly file?: string;
  readonly line?: number;
  readonly diagnostics: readonly HealthDiagnostic[];
  /** Node ids of the connected proxies whose generated config comes from it (routes, clusters). */
  readonly reaches: readonly string[];
}

/** Sync state of one xDS type of one proxy. */
export interface TypeSync {
  /** Short name: LDS, RDS, CDS, EDS, SDS, or the type URL. */
  readonly type: string;
  readonly state: 'SYNCED' | 'STALE' | 'NACKED';
  readonly sent: string;
  readonly acked: string;
  readonly resources: number;
  readonly nack?: { readonly version: string; readonly message: string; readonly at: number };
}

/** One connected proxy. */
export interface ProxyHealth {
  readonly id: string;
  readonly connectedAt: number;
  /** SYNCED when every type is; NACKED when any last response was rejected; else STALE. */
  readonly state: 'SYNCED' | 'STALE' | 'NACKED';
  readonly types: readonly TypeSync[];
}

/** The whole view. */
export interface ConfigHealth {
  readonly version: number | string;
  readonly resources: readonly ResourceHealth[];
  readonly proxies: readonly ProxyHealth[];
}

/** What the view is computed from. */
export interface HealthInputs {
  readonly version: number | string;
  readonly status: StoreStatus;
  /** Analyzer findings over the served resources (IST codes). */
  readonly analysis: readonly Diagnostic[];
  readonly proxies: readonly ProxySyncStatus[];
  /** Proxy node id → resources (`Kind ns/name`) its config comes from. */
  readonly reach: ReadonlyMap<string, ReadonlySet<string>>;
}

const SHORT: Readonly<Record<string, string>> = {
  Listener: 'LDS',
  RouteConfiguration: 'RDS',
  Cluster: 'CDS',
  ClusterLoadAssignment: 'EDS',
  Secret: 'SDS',
};

/** `type.googleapis.com/envoy.config.listener.v3.Listener` → `LDS`. */
export function shortTypeName(typeUrl: string): string {
  const last = typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
  return SHORT[last] ?? typeUrl;
}

function withText(ds: readonly Diagnostic[]): HealthDiagnostic[] {
  return ds.map((d) => ({ ...d, text: formatDiagnostic(d) }));
}

function stateOf(s: ConfigState, ds: readonly Diagnostic[]): ResourceHealth['state'] {
  if (s === 'rejected') return 'rejected';
  return s === 'warning' || ds.some((d) => d.severity === 'warning') ? 'warning' : 'applied';
}

/** Per-type sync of one proxy, ordered as Envoy's push order (CDS, EDS, LDS, RDS, SDS). */
function typeSyncs(p: ProxySyncStatus): TypeSync[] {
  const order = ['CDS', 'EDS', 'LDS', 'RDS', 'SDS'];
  return Object.entries(p.types)
    .map(([url, t]): TypeSync => {
      const nacked = t.lastNack !== undefined && t.lastNack.version === t.sent && t.acked !== t.sent;
      return {
        type: shortTypeName(url),
        state: nacked ? 'NACKED' : t.sent === t.acked ? 'SYNCED' : 'STALE',
        sent: t.sent,
        acked: t.acked,
        resources: t.resourceCount,
        ...(t.lastNack
          ? { nack: { version: t.lastNack.version, message: t.lastNack.message, at: t.lastNack.at } }
          : {}),
      };
    })
    .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

/** Builds the config-health view. */
export function configHealth(i: HealthInputs): ConfigHealth {
  const findings = new Map<string, Diagnostic[]>();
  for (const d of i.analysis) {
    if (!d.resource) continue;
    let l = findings.get(d.resource);
    if (!l) findings.set(d.resource, (l = []));
    l.push(d);
  }
  const resources = i.status.resources.map((r): ResourceHealth => {
    const ds = [...r.diagnostics, ...(findings.get(r.resource) ?? [])];
    const reaches = [...i.reach].filter(([, set]) => set.has(r.resource)).map(([id]) => id);
    return {
      resource: r.resource,
      ...(r.kind ? { kind: r.kind } : {}),
      ...(r.namespace ? { namespace: r.namespace } : {}),
      ...(r.name ? { name: r.name } : {}),
      state: stateOf(r.state, ds),
      ...(r.file ? { file: r.file } : {}),
      ...(r.line ? { line: r.line } : {}),
      diagnostics: withText(ds),
      reaches: reaches.sort(),
    };
  });
  const proxies = i.proxies
    .map((p): ProxyHealth => {
      const types = typeSyncs(p);
      const state = types.some((t) => t.state === 'NACKED')
        ? 'NACKED'
        : types.every((t) => t.state === 'SYNCED')
          ? 'SYNCED'
          : 'STALE';
      return { id: p.id, connectedAt: p.connectedAt, state, types };
    })
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { version: i.version, resources, proxies };
}
