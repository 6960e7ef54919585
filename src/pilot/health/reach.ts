// Which Istio resources reach one proxy: the `istio` filter metadata (`config: /apis/<group>/<version>/
// namespaces/<ns>/<kind>/<name>`) that pilot stamps on the routes and clusters it generates from them,
// and for the kinds it does not stamp, the resources pilot's own selection picks for the proxy.
import { TypeUrl } from '../../xds/type-urls.js';
import { structToJson, type CanonicalStruct } from '../../xds/struct.js';
import type { Resource } from '../../api/resource.js';
import { policiesFor } from '../authz/policy-selection.js';
import type { Generator, ProxyRef } from '../generator.js';
import { inboundEndpoints } from '../listener-inbound.js';
import { selectedGateways } from '../listener-gateway.js';
import type { ProxyScope } from '../scoping.js';
import { applicableTelemetry } from '../telemetry/telemetry-policy.js';

const CONFIG_PATH = /^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)\/([a-z-]+)\/([^/]+)$/;

/** `virtual-service` → `VirtualService`. */
function kindOf(kebab: string): string {
  return kebab
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** `Kind ns/name` of an Istio metadata config path; undefined for anything else. */
export function resourceOfConfigPath(path: string): string | undefined {
  const m = CONFIG_PATH.exec(path);
  return m ? `${kindOf(m[2])} ${m[1]}/${m[3]}` : undefined;
}

/** Adds every `istio.config` path found under `x` to `out` (as `Kind ns/name`). */
function collect(x: unknown, out: Set<string>, depth: number): void {
  if (depth > 40 || x === null || typeof x !== 'object') return;
  if (Array.isArray(x)) {
    for (const v of x) collect(v, out, depth + 1);
    return;
  }
  const o = x as Record<string, unknown>;
  const istio = (o['filterMetadata'] as Record<string, CanonicalStruct> | undefined)?.['istio'];
  const config = istio && typeof istio === 'object' ? structToJson(istio)['config'] : undefined;
  if (typeof config === 'string') {
    const r = resourceOfConfigPath(config);
    if (r) out.add(r);
  }
  for (const v of Object.values(o)) collect(v, out, depth + 1);
}

/** `Kind ns/name` of a resource. */
function nameOf(kind: string, r: Pick<Resource, 'metadata'>): string {
  return `${kind} ${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
}

/**
 * The resources of the kinds pilot does not stamp, as pilot selects them for the proxy: Gateways by
 * selector (gateways), its Sidecar, the PeerAuthentications deciding its ports' mTLS mode (sidecars),
 * AuthorizationPolicies and RequestAuthentications by namespace/selector/targetRef, Telemetry by
 * level, and the ServiceEntries whose hosts its scope sees.
 */
export function selectedResources(scope: ProxyScope): Set<string> {
  const out = new Set<string>();
  const p = scope.proxy;
  if (p.type === 'router') for (const g of selectedGateways(scope)) out.add(nameOf('Gateway', g));
  else if (!p.noSidecar) {
    if (scope.sidecar) out.add(nameOf('Sidecar', scope.sidecar));
    const ports = [0, ...inboundEndpoints(scope).map((e) => e.port)];
    ports.push(...scope.push.peerAuthn.portLevelPorts(p.namespace, p.labels));
    for (const port of ports) {
      const decided = scope.push.peerAuthn.modeFor(p.namespace, p.labels, port).policy;
      if (decided) out.add(`PeerAuthentication ${decided}`);
    }
  }
  if (!p.noSidecar)
    for (const kind of ['AuthorizationPolicy', 'RequestAuthentication'])
      for (const r of policiesFor(scope, kind)) out.add(nameOf(kind, r));
  for (const t of applicableTelemetry(scope.push, p)) out.add(nameOf('Telemetry', t));
  for (const s of scope.services)
    if (s.source === 'ServiceEntry') out.add(`ServiceEntry ${s.namespace}/${s.name}`);
  return out;
}

/** The resources whose generated config this proxy receives, or that pilot selects for it. */
export function reachedResources(gen: Generator, proxy: ProxyRef): Set<string> {
  const out = selectedResources(gen.scope(proxy));
  collect(gen.generate(proxy, TypeUrl.LISTENER, []), out, 0);
  collect(gen.generate(proxy, TypeUrl.CLUSTER, []), out, 0);
  collect(gen.wholeRouteConfigs(proxy, gen.routeNames(proxy)), out, 0);
  return out;
}
