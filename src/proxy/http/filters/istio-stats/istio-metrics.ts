// Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds, istio_request_bytes,
// istio_response_bytes, istio_tcp_*) with Istio's label set. Label sets are resolved once per
// (service, peer, principal, code/flags) and their counters cached, so a request only walks maps.
import { flagsToString } from '../../response-flags.js';
import type { Counter, Histogram, StatsStore, Tags } from '../../../stats/stats-store.js';
import type { PeerInfo } from './peer-metadata.js';

/** Which side reports: the client's proxy (source) or the server's (destination). */
export type Reporter = 'source' | 'destination';

/** The service a request was sent to (destination_service*). */
export interface DestService {
  /** FQDN, e.g. reviews.default.svc.cluster.local (or the Host when unknown). */
  readonly host: string;
  readonly name: string;
  readonly namespace: string;
}

/** An unknown destination service. */
export const UNKNOWN_SERVICE: DestService = Object.freeze({
  host: 'unknown',
  name: 'unknown',
  namespace: 'unknown',
});

/** The service of an FQDN (`name.ns.svc...`); a bare name or IP keeps itself as name. */
export function serviceOfHost(host: string): DestService {
  const h = host.replace(/:\d+$/, '');
  if (/^[\d.]+$/.test(h) || !h.includes('.')) return { host: h, name: h, namespace: 'unknown' };
  const [name, ns] = h.split('.');
  return { host: h, name, namespace: ns };
}

/** Telemetry API metric overrides, compiled: metric names as Istio's (`REQUEST_COUNT` ...) mapped to ours. */
export interface MetricOverrides {
  /** Prometheus names of metrics not reported. */
  readonly disabled: ReadonlySet<string>;
  /** Per Prometheus name: labels removed. */
  readonly removeTags: ReadonlyMap<string, ReadonlySet<string>>;
  /** Per Prometheus name: labels added with a fixed value. */
  readonly addTags: ReadonlyMap<string, ReadonlyArray<readonly [string, string]>>;
}

/** No overrides. */
export const NO_OVERRIDES: MetricOverrides = {
  disabled: new Set(),
  removeTags: new Map(),
  addTags: new Map(),
};

/** Istio's metric names by Telemetry API enum. */
export const METRIC_NAMES: Readonly<Record<string, string>> = {
  REQUEST_COUNT: 'istio_requests_total',
  REQUEST_DURATION: 'istio_request_duration_milliseconds',
  REQUEST_SIZE: 'istio_request_bytes',
  RESPONSE_SIZE: 'istio_response_bytes',
  TCP_OPENED_CONNECTIONS: 'istio_tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'istio_tcp_connections_closed_total',
  TCP_SENT_BYTES: 'istio_tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'istio_tcp_received_bytes_total',
};

/** The counters and histograms of one label set. */
export class RequestSeries {
  constructor(
    readonly requests: Counter | null,
    readonly duration: Histogram | null,
    readonly requestBytes: Histogram | null,
    readonly responseBytes: Histogram | null,
  ) {}
}

/** The counters of one TCP label set. */
export class TcpSeries {
  constructor(
    readonly opened: Counter | null,
    readonly closed: Counter | null,
    readonly sent: Counter | null,
    readonly received: Counter | null,
  ) {}
}

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Builds and caches Istio's series for one reporter (one per listener direction of one proxy). */
export class IstioMetrics {
  private readonly http = new Map<DestService, Map<PeerInfo, Map<string, Map<number, RequestSeries>>>>();
  private readonly tcp = new Map<DestService, Map<PeerInfo, Map<string, TcpSeries>>>();

  constructor(
    private readonly store: StatsStore,
    readonly reporter: Reporter,
    /** This proxy's own workload. */
    readonly local: PeerInfo,
    private readonly overrides: MetricOverrides = NO_OVERRIDES,
  ) {}

  /**
   * The series of a finished request. `peer` is the other side; `principal` the other side's verified
   * identity on the connection ('' when it was not mutual TLS): the downstream's for the destination
   * reporter, the upstream's for the source reporter, whose own is `localPrincipal`; `grpc` is -1 for
   * HTTP, else the grpc-status (20: none).
   */
  requestSeries(
    svc: DestService,
    peer: PeerInfo,
    principal: string,
    code: number,
    flags: number,
    grpc: number,
    localPrincipal = '',
  ): RequestSeries {
    let byPeer = this.http.get(svc);
    if (byPeer === undefined)
      this.http.set(svc, (byPeer = new Map<PeerInfo, Map<string, Map<number, RequestSeries>>>()));
    let byPrincipal = byPeer.get(peer);
    if (byPrincipal === undefined)
      byPeer.set(peer, (byPrincipal = new Map<string, Map<number, RequestSeries>>()));
    let byKey = byPrincipal.get(principal);
    if (byKey === undefined) byPrincipal.set(principal, (byKey = new Map<number, RequestSeries>()));
    // code < 1000, grpc -1..20, flags < 2^26: one exact number, no string built per request.
    const key = (code * 32 + grpc + 1) * 67108864 + flags;
    let s = byKey.get(key);
    if (s === undefined) {
      const base = this.labels(svc, peer, principal, localPrincipal);
      base.push(
        ['request_protocol', grpc >= 0 ? 'grpc' : 'http'],
        ['response_code', String(code)],
        ['grpc_response_status', grpc >= 0 && grpc < 20 ? String(grpc) : ''],
        ['response_flags', flagsToString(flags)],
        ['connection_security_policy', this.securityPolicy(principal)],
      );
      s = new RequestSeries(
        this.counter('istio_requests_total', base),
        this.histogram('istio_request_duration_milliseconds', base),
        this.histogram('istio_request_bytes', base),
        this.histogram('istio_response_bytes', base),
      );
      byKey.set(key, s);
    }
    return s;
  }

  /** The series of a TCP connection. */
  tcpSeries(svc: DestService, peer: PeerInfo, principal: string, localPrincipal = ''): TcpSeries {
    let byPeer = this.tcp.get(svc);
    if (byPeer === undefined) this.tcp.set(svc, (byPeer = new Map<PeerInfo, Map<string, TcpSeries>>()));
    let byPrincipal = byPeer.get(peer);
    if (byPrincipal === undefined) byPeer.set(peer, (byPrincipal = new Map<string, TcpSeries>()));
    let s = byPrincipal.get(principal);
    if (s === undefined) {
      const base = this.labels(svc, peer, principal, localPrincipal);
      base.push(
        ['request_protocol', 'tcp'],
        ['response_flags', '-'],
        ['connection_security_policy', this.securityPolicy(principal)],
      );
      s = new TcpSeries(
        this.counter('istio_tcp_connections_opened_total', base),
        this.counter('istio_tcp_connections_closed_total', base),
        this.counter('istio_tcp_sent_bytes_total', base),
        this.counter('istio_tcp_received_bytes_total', base),
      );
      byPrincipal.set(principal, s);
    }
    return s;
  }

  private securityPolicy(principal: string): string {
    if (this.reporter === 'source') return 'unknown';
    return principal !== '' ? 'mutual_tls' : 'none';
  }

  /**
   * The workload labels of both sides, in Istio's order. Principals as Envoy's connection reports
   * them: the destination reporter names the downstream peer's certificate and its own identity, the
   * source reporter its own client certificate and the upstream's (both `unknown` without mutual TLS).
   */
  private labels(
    svc: DestService,
    peer: PeerInfo,
    principal: string,
    localPrincipal: string,
  ): Array<[string, string]> {
    const source = this.reporter === 'source';
    const src = source ? this.local : peer;
    const dst = source ? peer : this.local;
    const mtls = principal !== '';
    const srcPrincipal = !mtls ? 'unknown' : source ? localPrincipal || 'unknown' : principal;
    const dstPrincipal = !mtls ? 'unknown' : source ? principal : dst.identity || 'unknown';
    return [
      ['reporter', this.reporter],
      ['source_workload', src.workload],
      ['source_canonical_service', src.canonicalService],
      ['source_canonical_revision', src.canonicalRevision],
      ['source_workload_namespace', src.namespace],
      ['source_principal', srcPrincipal],
      ['source_app', src.app],
      ['source_version', src.version],
      ['source_cluster', src.cluster],
      ['destination_workload', dst.workload],
      ['destination_workload_namespace', dst.namespace],
      ['destination_principal', dstPrincipal],
      ['destination_app', dst.app],
      ['destination_version', dst.version],
      ['destination_service', svc.host],
      ['destination_canonical_service', dst.canonicalService],
      ['destination_canonical_revision', dst.canonicalRevision],
      ['destination_service_name', svc.name],
      ['destination_service_namespace', svc.namespace],
      ['destination_cluster', dst.cluster],
    ];
  }

  private tagsFor(metric: string, base: Tags): Tags | null {
    const o = this.overrides;
    if (o.disabled.has(metric)) return null;
    const rm = o.removeTags.get(metric);
    const add = o.addTags.get(metric);
    if (rm === undefined && add === undefined) return base;
    const out: Array<readonly [string, string]> = [];
    for (const t of base) if (!rm?.has(t[0]) && !add?.some((a) => a[0] === t[0])) out.push(t);
    if (add) out.push(...add);
    return out;
  }

  private statName(metric: string, tags: Tags): string {
    return `${metric}{${tags.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
  }

  private counter(metric: string, base: Tags): Counter | null {
    const tags = this.tagsFor(metric, base);
    return tags === null ? null : this.store.namedCounter(this.statName(metric, tags), metric, tags);
  }

  private histogram(metric: string, base: Tags): Histogram | null {
    const tags = this.tagsFor(metric, base);
    return tags === null ? null : this.store.namedHistogram(this.statName(metric, tags), metric, tags);
  }
}
