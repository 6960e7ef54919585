// ClusterLoadAssignments: a cluster's endpoints filtered by subset labels, grouped by locality, with
// locality priorities (failover) and weights (distribute) from the DestinationRule.
import type { LocalityLoadBalancerSetting } from '../api/kinds/networking/destination-rule.js';
import type { Endpoint, Locality } from '../registry/model.js';
import { selects } from '../registry/labels.js';
import { localityString } from '../registry/locality.js';
import { effectivePolicy, findSubset } from './destination-policy.js';
import type {
  envoy_config_core_v3_Locality as LocalityMessage,
  envoy_config_endpoint_v3_ClusterLoadAssignment as ClusterLoadAssignment,
  envoy_config_endpoint_v3_LbEndpoint as LbEndpoint,
  envoy_config_endpoint_v3_LocalityLbEndpoints as LocalityLbEndpoints,
} from '../xds/envoy-types.js';
import { parseOutboundClusterName, socketAddress, wrap } from './envoy.js';
import type { ProxyScope } from './scoping.js';
import { endpointTlsMetadata } from './cluster-tls.js';

/** Options of endpoint generation. */
export interface EndpointOptions {
  /** Proxyless gRPC: hostnames of DNS services are replaced by their resolved addresses. */
  readonly grpc: boolean;
}

/** The endpoints of one outbound cluster (an empty assignment when the cluster is unknown). */
export function buildLoadAssignment(
  scope: ProxyScope,
  clusterName: string,
  opts: EndpointOptions,
): ClusterLoadAssignment {
  const empty: ClusterLoadAssignment = { clusterName };
  const parsed = parseOutboundClusterName(clusterName);
  if (!parsed) return empty;
  const svc = scope.service(parsed.host);
  if (!svc) return empty;
  const dr = scope.destinationRule(svc.hostname);
  let selector: Readonly<Record<string, string>> | undefined;
  if (parsed.subset) {
    const subset = findSubset(dr, parsed.subset);
    if (!subset) return empty; // Istio: a subset the DestinationRule does not define has no endpoints.
    selector = subset.labels;
  }
  let eps = scope.push.registry.endpoints(svc, parsed.port).filter((e) => selects(selector, e.labels));
  if (opts.grpc && (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN'))
    eps = resolveDns(scope, eps);
  if (eps.length === 0) return empty;
  const lb = effectivePolicy(dr, parsed.subset, parsed.port);
  const localitySetting = lb.loadBalancer?.localityLbSetting;
  // Istio applies `distribute` weights or failover priorities, never both; failover needs outlier
  // detection to notice unhealthy endpoints.
  const failover =
    lb.outlierDetection !== undefined &&
    localitySetting?.enabled !== false &&
    (localitySetting?.distribute?.length ?? 0) === 0;
  const byLabels = failover && (localitySetting?.failoverPriority?.length ?? 0) > 0;
  const labelPriority = byLabels
    ? (e: Endpoint): number => failoverPriorityOf(localitySetting!.failoverPriority!, scope.proxy, e)
    : null;
  const groups = groupByLocality(eps, labelPriority);
  const weights =
    localitySetting?.enabled !== false
      ? distributeWeights(localitySetting, scope.proxy.locality, groups)
      : null;
  const endpoints: LocalityLbEndpoints[] = [];
  const raw = new Map<LocalityLbEndpoints, number>();
  for (const g of groups) {
    const lbEndpoints = g.endpoints.map((e) => {
      const le: LbEndpoint = {
        endpoint: { address: socketAddress(e.address, e.port) },
        healthStatus: e.healthy ? 'HEALTHY' : 'UNHEALTHY',
        loadBalancingWeight: wrap(e.weight),
      };
      const md = opts.grpc ? null : endpointTlsMetadata(scope, e);
      if (md) le.metadata = md;
      return le;
    });
    let weight = g.endpoints.reduce((s, e) => s + e.weight, 0);
    if (weights) {
      weight = weights.get(g.key) ?? 0;
      if (weight === 0) continue;
    }
    const le: LocalityLbEndpoints = { lbEndpoints, loadBalancingWeight: wrap(weight) };
    // Always present, even when empty: gRPC rejects a locality group without one.
    le.locality = localityObject(g.locality);
    if (failover) raw.set(le, rawPriority(g, scope.proxy.locality, localitySetting));
    endpoints.push(le);
  }
  compactPriorities(raw);
  return endpoints.length > 0 ? { clusterName, endpoints } : empty;
}

interface LocalityGroup {
  key: string;
  locality: Locality;
  endpoints: Endpoint[];
  /** Priority from failoverPriority labels, when those decide it (else locality decides). */
  priority: number | undefined;
}

/** Groups endpoints by locality (and, with failoverPriority, by label priority too: Envoy's priority is per group). */
function groupByLocality(
  eps: readonly Endpoint[],
  priorityOf: ((e: Endpoint) => number) | null,
): LocalityGroup[] {
  const m = new Map<string, LocalityGroup>();
  for (const e of eps) {
    const priority = priorityOf ? priorityOf(e) : undefined;
    const loc = localityString(e.locality);
    const key = priority === undefined ? loc : `${loc}#${priority}`;
    let g = m.get(key);
    if (!g) m.set(key, (g = { key: loc, locality: e.locality, endpoints: [], priority }));
    g.endpoints.push(e);
  }
  return [...m.values()];
}

const LOCALITY_LABELS: Record<string, (l: Locality) => string | undefined> = {
  'topology.kubernetes.io/region': (l) => l.region,
  'topology.kubernetes.io/zone': (l) => l.zone,
  'topology.istio.io/subzone': (l) => l.subZone,
};

/**
 * Istio's failoverPriority: the priority is the number of labels left after the longest prefix of the
 * list on which endpoint and client agree (all agree → 0). A `key=value` entry compares the endpoint to
 * that value instead of the client's. Locality labels fall back to the localities.
 */
export function failoverPriorityOf(
  labels: readonly string[],
  proxy: { labels: Readonly<Record<string, string>>; locality: Locality },
  e: Pick<Endpoint, 'labels' | 'locality'>,
): number {
  let matched = 0;
  for (const entry of labels) {
    const eq = entry.indexOf('=');
    const key = eq >= 0 ? entry.slice(0, eq) : entry;
    const fromLocality = LOCALITY_LABELS[key];
    const epValue = e.labels[key] ?? fromLocality?.(e.locality);
    const want = eq >= 0 ? entry.slice(eq + 1) : (proxy.labels[key] ?? fromLocality?.(proxy.locality));
    if (want === undefined || epValue !== want) break;
    matched++;
  }
  return labels.length - matched;
}

function localityObject(l: Locality): LocalityMessage {
  const out: LocalityMessage = {};
  if (l.region) out.region = l.region;
  if (l.zone) out.zone = l.zone;
  if (l.subZone) out.subZone = l.subZone;
  return out;
}

/**
 * A group's priority before compaction: by failoverPriority labels (times 5 plus the locality priority
 * when `failover` targets are given too, as Istio combines them), else by locality.
 */
function rawPriority(
  g: LocalityGroup,
  proxy: Locality,
  setting: LocalityLoadBalancerSetting | undefined,
): number {
  const byLocality = (): number => localityPriority(proxy, g.locality, setting);
  if (g.priority === undefined) return byLocality();
  return (setting?.failover?.length ?? 0) > 0 ? g.priority * 5 + byLocality() : g.priority;
}

/**
 * Renumbers the groups' priorities 0..N in order, as Istio does: Envoy (and gRPC) walk priorities in
 * sequence, so 0,2,3 must become 0,1,2. Priority 0 stays unset (the proto default).
 */
function compactPriorities(raw: ReadonlyMap<LocalityLbEndpoints, number>): void {
  const rank = new Map([...new Set(raw.values())].sort((a, b) => a - b).map((p, i) => [p, i]));
  for (const [le, p] of raw) {
    const r = rank.get(p)!;
    if (r > 0) le.priority = r;
  }
}

/** Istio's failover priorities: same region/zone/subzone 0, same zone 1, same region 2 (or the failover target), else 3. */
function localityPriority(
  proxy: Locality,
  ep: Locality,
  setting: LocalityLoadBalancerSetting | undefined,
): number {
  if (!proxy.region) return 0;
  if (proxy.region === ep.region) {
    if (proxy.zone === ep.zone) return proxy.subZone === ep.subZone ? 0 : 1;
    return 2;
  }
  const fo = setting?.failover?.find((f) => f.from === proxy.region);
  if (fo) return fo.to === ep.region ? 3 : 4;
  return 3;
}

/** True when a `region/zone/subzone` pattern with `*` parts matches a locality. */
function localityMatches(pattern: string, l: Locality): boolean {
  const parts = pattern.split('/');
  const values = [l.region, l.zone, l.subZone];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '*') return true;
    if (parts[i] !== values[i]) return false;
  }
  return true;
}

/** Locality weights from `distribute` for the proxy's locality (each `to` weight split over its localities); null when none applies. */
function distributeWeights(
  setting: LocalityLoadBalancerSetting | undefined,
  proxy: Locality,
  groups: readonly LocalityGroup[],
): Map<string, number> | null {
  const rule = setting?.distribute?.find((d) => d.from !== undefined && localityMatches(d.from, proxy));
  if (!rule?.to) return null;
  const out = new Map<string, number>();
  for (const [pattern, weight] of Object.entries(rule.to)) {
    const matching = groups.filter((g) => localityMatches(pattern, g.locality));
    for (const g of matching)
      out.set(g.key, (out.get(g.key) ?? 0) + Math.max(1, Math.round((weight * 1000) / matching.length)));
  }
  return out;
}

/** Replaces hostname endpoints by one endpoint per resolved address. */
function resolveDns(scope: ProxyScope, eps: readonly Endpoint[]): Endpoint[] {
  const dns = scope.push.dns;
  const out: Endpoint[] = [];
  for (const e of eps) {
    const addrs = dns?.addresses(e.address);
    if (!addrs) continue;
    for (const a of addrs) out.push({ ...e, address: a });
  }
  return out;
}
