// The cluster side of an explanation: subset, load balancing, TLS, circuit breakers and the endpoint set
// the control plane sends the proxy for one cluster.
import { TypeUrl } from '../../xds/type-urls.js';
import type { Generator, ProxyRef } from '../generator.js';
import { arr, obj } from './shape.js';
import { structToJson, type CanonicalStruct } from '../../xds/struct.js';

/** One endpoint of the cluster as EDS sends it. */
export interface EndpointExplain {
  readonly address: string;
  readonly health: string;
}

/** A cluster a route sends to, with its share of the traffic. */
export interface ClusterExplain {
  readonly name: string;
  /** Share of requests (weighted routes), 0–100. */
  readonly percent: number;
  /** `outbound|port|subset|host` parts, when the name has that shape. */
  readonly host?: string;
  readonly port?: number;
  readonly subset?: string;
  /** Absent when the proxy has no such cluster (503 NC). */
  readonly type?: string;
  readonly lbPolicy?: string;
  /** `ISTIO_MUTUAL (auto mTLS)`, `TLS`, or `plaintext`. */
  readonly tls?: string;
  readonly circuitBreakers?: unknown;
  readonly outlierDetection?: unknown;
  readonly endpoints: EndpointExplain[];
  readonly error?: string;
}

/** Describes cluster `name` of proxy `ref`; `share` is its fraction of the route's traffic (0–1). */
export function describeCluster(gen: Generator, ref: ProxyRef, name: string, share: number): ClusterExplain {
  const parts = name.split('|');
  const id =
    parts.length === 4 && parts[0] === 'outbound'
      ? { port: Number(parts[1]), ...(parts[2] ? { subset: parts[2] } : {}), host: parts[3] }
      : {};
  const base = { name, percent: Math.round(share * 10_000) / 100, ...id };
  const [c] = gen.generate(ref, TypeUrl.CLUSTER, [name]);
  if (!c) return { ...base, endpoints: [], error: 'the proxy has no such cluster (503 NC)' };
  const type = String(c.type ?? (c.clusterType ? 'CUSTOM' : 'EDS'));
  const out = {
    ...base,
    type,
    lbPolicy: String(c.lbPolicy ?? 'ROUND_ROBIN'),
    tls: tlsOf(c),
    ...(c.circuitBreakers ? { circuitBreakers: c.circuitBreakers } : {}),
    ...(c.outlierDetection ? { outlierDetection: c.outlierDetection } : {}),
  };
  const edsName = String(obj(c.edsClusterConfig).serviceName ?? name);
  const cla = type === 'EDS' ? gen.generate(ref, TypeUrl.ENDPOINT, [edsName])[0] : c.loadAssignment;
  return { ...out, endpoints: endpointsOf(cla) };
}

function tlsOf(c: Record<string, unknown>): string {
  const matches = arr(c.transportSocketMatches);
  if (matches.some((m) => structToJson(m.match as CanonicalStruct).tlsMode === 'istio'))
    return 'ISTIO_MUTUAL (auto mTLS)';
  const ts = obj(c.transportSocket);
  if (ts.name)
    return String(obj(ts.typedConfig)['@type'] ?? ts.name).includes('UpstreamTlsContext')
      ? 'TLS'
      : String(ts.name);
  return 'plaintext';
}

function endpointsOf(cla: unknown): EndpointExplain[] {
  const out: EndpointExplain[] = [];
  for (const le of arr(obj(cla).endpoints))
    for (const lb of arr(le.lbEndpoints)) {
      const sa = obj(obj(obj(lb.endpoint).address).socketAddress);
      out.push({
        address: `${String(sa.address)}:${String(sa.portValue)}`,
        health: String(lb.healthStatus ?? 'HEALTHY'),
      });
    }
  return out;
}
