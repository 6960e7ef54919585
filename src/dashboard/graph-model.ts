// The mesh graph from Istio's metrics over a window: service boxes holding their workloads (versions),
// gateways, ServiceEntry hosts, and one edge per observed caller → callee with request rate, error rate,
// p99 latency, protocol, mTLS, and a weighted route's configured next to its observed split.
import type { SeriesIncrease } from './increase.js';

/** A service the config declares (Kubernetes Service or ServiceEntry host). */
export interface KnownService {
  /** FQDN, e.g. `reviews.default.svc.cluster.local`. */
  readonly host: string;
  readonly namespace: string;
  readonly kind: 'service' | 'serviceentry';
}

/** A VirtualService's weighted route to a host: version → percent. */
export interface ConfiguredSplit {
  readonly host: string;
  /** `VirtualService ns/name`. */
  readonly resource: string;
  readonly weights: Readonly<Record<string, number>>;
}

/** A node: service (box), workload, gateway, ServiceEntry host, or callers without a sidecar. */
export interface GraphNode {
  readonly id: string;
  readonly kind: 'service' | 'serviceentry' | 'workload' | 'gateway' | 'unknown';
  readonly label: string;
  readonly namespace?: string;
  /** Workloads: their service box. */
  readonly parent?: string;
  readonly version?: string;
  /** No traffic in the window. */
  readonly idle: boolean;
  /** Services with a weighted route: configured and observed split by version (percent). */
  readonly split?: {
    readonly resource: string;
    readonly configured: Readonly<Record<string, number>>;
    readonly observed: Readonly<Record<string, number>>;
  };
}

/** An observed caller → callee. */
export interface GraphEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** http, grpc or tcp (several joined by `,`). */
  readonly protocol: string;
  /** Requests (TCP: connections) in the window. */
  readonly requests: number;
  /** Per second over the window. */
  readonly rps: number;
  /** Share of requests that failed (5xx, no response, gRPC status ≠ 0), 0..1. */
  readonly errorRate: number;
  /** 99th percentile of istio_request_duration_milliseconds, null when unknown (TCP, no samples). */
  readonly p99Ms: number | null;
  /** Every request was mutual TLS (connection_security_policy="mutual_tls" at the destination). */
  readonly mtls: boolean;
  /** Into a version of a service with a weighted route: its configured weight (percent). */
  readonly configuredWeight?: number;
  /** That version's share of this caller's requests to the service (percent). */
  readonly observedShare?: number;
}

/** The graph model. */
export interface Graph {
  /** Seconds of the window the data covers. */
  readonly seconds: number;
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
}

/** What one edge accumulates from one reporter's samples. */
interface Tally {
  requests: number;
  errors: number;
  mtls: number;
  protocols: Set<string>;
  /** `le` → cumulative count. */
  buckets: Map<string, number>;
}

interface EdgeTallies {
  source: string;
  target: string;
  host: string;
  version: string;
  byReporter: Map<string, Tally>;
}

const GATEWAY = /^istio-(ingress|egress)gateway/;

function isError(l: Readonly<Record<string, string>>): boolean {
  const code = Number(l.response_code ?? '0');
  if (l.request_protocol === 'grpc' && l.grpc_response_status && l.grpc_response_status !== '0') return true;
  return code === 0 || code >= 500;
}

/** The 0..1 quantile of cumulative buckets, interpolated inside the bucket as histogram_quantile does. */
export function bucketQuantile(q: number, buckets: ReadonlyMap<string, number>): number | null {
  const sorted = [...buckets]
    .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of sorted) {
    if (n >= rank) {
      if (le === Infinity) return prevLe;
      return n === prevN ? le : prevLe + ((le - prevLe) * (rank - prevN)) / (n - prevN);
    }
    prevLe = le;
    prevN = n;
  }
  return prevLe;
}

/** A workload's name, with its version when the name does not already say it. */
function labelOf(name: string, version: string): string {
  if (!version || version === 'unknown' || GATEWAY.test(name) || name.endsWith(`-${version}`)) return name;
  return `${name} (${version})`;
}

/** Nodes are collected here as the samples name them. */
class NodeSet {
  readonly nodes = new Map<string, GraphNode>();
  private readonly known: Map<string, KnownService>;

  constructor(known: readonly KnownService[]) {
    this.known = new Map(known.map((k) => [k.host, k]));
    for (const k of known) this.service(k.host, true);
  }

  service(host: string, idle = false): string {
    const id = `svc:${host}`;
    const had = this.nodes.get(id);
    if (had) {
      if (!idle && had.idle) this.nodes.set(id, { ...had, idle: false });
      return id;
    }
    const k = this.known.get(host);
    const local = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
    this.nodes.set(id, {
      id,
      kind: k?.kind ?? (local ? 'service' : 'serviceentry'),
      label: local ? local[1] : host,
      ...(k?.namespace || local ? { namespace: k?.namespace ?? local?.[2] } : {}),
      idle,
    });
    return id;
  }

  workload(ns: string, name: string, version: string, parent: string | undefined): string {
    const id = `wl:${ns}/${name}`;
    const had = this.nodes.get(id);
    if (had) {
      if (parent && !had.parent) this.nodes.set(id, { ...had, parent });
      return id;
    }
    this.nodes.set(id, {
      id,
      kind: GATEWAY.test(name) ? 'gateway' : 'workload',
      label: labelOf(name, version),
      namespace: ns,
      ...(parent && !GATEWAY.test(name) ? { parent } : {}),
      ...(version && version !== 'unknown' ? { version } : {}),
      idle: false,
    });
    return id;
  }

  unknown(): string {
    if (!this.nodes.has('unknown'))
      this.nodes.set('unknown', {
        id: 'unknown',
        kind: 'unknown',
        label: 'unknown (no sidecar)',
        idle: false,
      });
    return 'unknown';
  }
}

function tallyOf(e: EdgeTallies, reporter: string): Tally {
  let t = e.byReporter.get(reporter);
  if (!t)
    e.byReporter.set(
      reporter,
      (t = { requests: 0, errors: 0, mtls: 0, protocols: new Set(), buckets: new Map() }),
    );
  return t;
}

/** The edge key and its ends for one sample's labels. */
function endsOf(nodes: NodeSet, l: Readonly<Record<string, string>>): Omit<EdgeTallies, 'byReporter'> {
  const host =
    l.destination_service && l.destination_service !== 'unknown'
      ? l.destination_service
      : (l.destination_service_name ?? 'unknown');
  const svc = nodes.service(host);
  const src =
    !l.source_workload || l.source_workload === 'unknown'
      ? nodes.unknown()
      : nodes.workload(
          l.source_workload_namespace ?? '',
          l.source_workload,
          l.source_version ?? '',
          undefined,
        );
  const version = l.destination_version ?? '';
  const dst =
    !l.destination_workload || l.destination_workload === 'unknown'
      ? svc
      : nodes.workload(l.destination_workload_namespace ?? '', l.destination_workload, version, svc);
  return { source: src, target: dst, host, version };
}

/** Prefer what the destination's sidecar saw (it knows mTLS and the workload); else the caller's view. */
function pick(e: EdgeTallies): Tally {
  const d = e.byReporter.get('destination');
  return d && d.requests > 0 ? d : (e.byReporter.get('source') ?? tallyOf(e, 'source'));
}

/** Builds the graph from the window's increases, the declared services and the weighted routes. */
export function buildGraph(
  w: { series: readonly SeriesIncrease[]; seconds: number },
  known: readonly KnownService[],
  splits: readonly ConfiguredSplit[],
): Graph {
  const nodes = new NodeSet(known);
  const edges = new Map<string, EdgeTallies>();
  const edgeOf = (l: Readonly<Record<string, string>>): EdgeTallies => {
    const ends = endsOf(nodes, l);
    const key = `${ends.source}->${ends.target}`;
    let e = edges.get(key);
    if (!e) edges.set(key, (e = { ...ends, byReporter: new Map() }));
    return e;
  };
  for (const s of w.series) {
    const l = s.labels;
    const reporter = l.reporter ?? 'source';
    if (s.name === 'istio_requests_total' || s.name === 'istio_tcp_connections_opened_total') {
      const t = tallyOf(edgeOf(l), reporter);
      t.requests += s.increase;
      if (s.name === 'istio_requests_total' && isError(l)) t.errors += s.increase;
      if (l.connection_security_policy === 'mutual_tls') t.mtls += s.increase;
      t.protocols.add(s.name === 'istio_requests_total' ? (l.request_protocol ?? 'http') : 'tcp');
    } else if (s.name === 'istio_request_duration_milliseconds_bucket' && l.le !== undefined) {
      const t = tallyOf(edgeOf(l), reporter);
      t.buckets.set(l.le, (t.buckets.get(l.le) ?? 0) + s.increase);
    }
  }
  const out: GraphEdge[] = [];
  for (const [id, e] of edges) {
    const t = pick(e);
    if (t.requests <= 0) continue;
    out.push({
      id,
      source: e.source,
      target: e.target,
      protocol: [...t.protocols].sort().join(','),
      requests: t.requests,
      rps: w.seconds > 0 ? t.requests / w.seconds : 0,
      errorRate: t.errors / t.requests,
      p99Ms: bucketQuantile(0.99, t.buckets),
      mtls: t.mtls >= t.requests,
    });
  }
  return withSplits({ seconds: w.seconds, nodes: [...nodes.nodes.values()], edges: out }, edges, splits);
}

/** Adds configured vs observed weights to the edges into a split service's versions, and to its box. */
function withSplits(g: Graph, tallies: Map<string, EdgeTallies>, splits: readonly ConfiguredSplit[]): Graph {
  if (splits.length === 0) return g;
  const byHost = new Map(splits.map((s) => [s.host, s]));
  const totals = new Map<string, number>();
  const perVersion = new Map<string, Map<string, number>>();
  for (const e of g.edges) {
    const t = tallies.get(e.id)!;
    if (!byHost.has(t.host) || !t.version) continue;
    const k = `${e.source}|${t.host}`;
    totals.set(k, (totals.get(k) ?? 0) + e.requests);
    let v = perVersion.get(t.host);
    if (!v) perVersion.set(t.host, (v = new Map()));
    v.set(t.version, (v.get(t.version) ?? 0) + e.requests);
  }
  const edges = g.edges.map((e): GraphEdge => {
    const t = tallies.get(e.id)!;
    const split = byHost.get(t.host);
    if (!split || !t.version) return e;
    const total = totals.get(`${e.source}|${t.host}`) ?? 0;
    return {
      ...e,
      configuredWeight: split.weights[t.version] ?? 0,
      observedShare: total > 0 ? (100 * e.requests) / total : 0,
    };
  });
  const nodes = g.nodes.map((n): GraphNode => {
    const split = n.id.startsWith('svc:') ? byHost.get(n.id.slice(4)) : undefined;
    if (!split) return n;
    const v = perVersion.get(split.host) ?? new Map<string, number>();
    const sum = [...v.values()].reduce((a, b) => a + b, 0);
    const observed: Record<string, number> = {};
    for (const [version, n2] of v) observed[version] = sum > 0 ? (100 * n2) / sum : 0;
    return { ...n, split: { resource: split.resource, configured: { ...split.weights }, observed } };
  });
  return { seconds: g.seconds, nodes, edges };
}
