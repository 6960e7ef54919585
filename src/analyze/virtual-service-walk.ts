// Walks a VirtualService: its destinations and gateway references, each with its field path.
import type { Resource } from '../api/resource.js';
import type {
  Destination,
  HTTPMatchRequest,
  HTTPRoute,
  VirtualServiceSpec,
} from '../api/kinds/networking/virtual-service.js';

/** One destination of a VirtualService with where it sits. */
export interface DestinationRef {
  readonly destination: Destination;
  /** Path of the destination object, e.g. `spec.http[0].route[1].destination`. */
  readonly path: string;
  /** `route` for route destinations, `mirror` for mirrors. */
  readonly role: 'route' | 'mirror';
}

/** The spec of a VirtualService as the analyzers read it. */
export function vsSpec(r: Resource): VirtualServiceSpec {
  return r.spec ?? {};
}

/** Every route and mirror destination of a VirtualService (http, tcp, tls). */
export function destinations(vs: VirtualServiceSpec): DestinationRef[] {
  const out: DestinationRef[] = [];
  (vs.http ?? []).forEach((rule, i) => {
    const base = `spec.http[${i}]`;
    (rule.route ?? []).forEach((rd, j) => {
      if (rd.destination)
        out.push({ destination: rd.destination, path: `${base}.route[${j}].destination`, role: 'route' });
    });
    if (rule.mirror) out.push({ destination: rule.mirror, path: `${base}.mirror`, role: 'mirror' });
    (rule.mirrors ?? []).forEach((mp, j) => {
      if (mp.destination)
        out.push({ destination: mp.destination, path: `${base}.mirrors[${j}].destination`, role: 'mirror' });
    });
  });
  for (const proto of ['tcp', 'tls'] as const) {
    (vs[proto] ?? []).forEach((rule, i) => {
      (rule.route ?? []).forEach((rd, j) => {
        if (rd.destination)
          out.push({
            destination: rd.destination,
            path: `spec.${proto}[${i}].route[${j}].destination`,
            role: 'route',
          });
      });
    });
  }
  return out;
}

/** One gateway named by a VirtualService (in spec.gateways or in a match's gateways). */
export interface GatewayRef {
  readonly ref: string;
  readonly holder: string[];
  readonly index: number;
  readonly path: string;
}

/** Every gateway reference of a VirtualService, `mesh` included. */
export function gatewayRefs(vs: VirtualServiceSpec): GatewayRef[] {
  const out: GatewayRef[] = [];
  const add = (list: string[] | undefined, path: string): void => {
    (list ?? []).forEach((ref, index) => out.push({ ref, holder: list!, index, path: `${path}[${index}]` }));
  };
  add(vs.gateways, 'spec.gateways');
  for (const proto of ['http', 'tcp', 'tls'] as const) {
    (vs[proto] ?? []).forEach((rule, i) => {
      (rule.match ?? []).forEach((m, j) => add(m.gateways, `spec.${proto}[${i}].match[${j}].gateways`));
    });
  }
  return out;
}

/** `namespace/name` of a gateway reference: `name`, `ns/name`, or the legacy `name.ns.svc.cluster.local`. */
export function resolveGateway(ref: string, vsNamespace: string): { namespace: string; name: string } {
  const slash = ref.indexOf('/');
  if (slash >= 0) return { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
  const dot = ref.indexOf('.');
  if (dot >= 0) {
    const [name, namespace] = ref.split('.');
    return { namespace: namespace || vsNamespace, name };
  }
  return { namespace: vsNamespace, name: ref };
}

/** True when the VirtualService applies to sidecars: no gateways, or `mesh` listed. */
export function boundToMesh(vs: VirtualServiceSpec): boolean {
  return !vs.gateways || vs.gateways.length === 0 || vs.gateways.includes('mesh');
}

const NEUTRAL_MATCH_FIELDS = new Set(['name', 'ignoreUriCase', 'statPrefix']);

/** True when an http match entry accepts every request (no conditions, or `uri.prefix: /`, or `.*`). */
export function isCatchAllMatch(m: HTTPMatchRequest): boolean {
  for (const [k, v] of Object.entries(m)) {
    if (NEUTRAL_MATCH_FIELDS.has(k) || v === undefined) continue;
    if (k === 'uri' && isAnyUri(v)) continue;
    return false;
  }
  return true;
}

function isAnyUri(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const u = v as { exact?: string; prefix?: string; regex?: string };
  const keys = Object.keys(u);
  if (keys.length !== 1) return false;
  return u.prefix === '/' || u.prefix === '' || u.regex === '.*' || u.regex === '/.*';
}

/** True when an http rule accepts every request: it has no match, or one of its matches is a catch-all. */
export function isCatchAllRule(rule: HTTPRoute): boolean {
  return !rule.match || rule.match.length === 0 || rule.match.some(isCatchAllMatch);
}
