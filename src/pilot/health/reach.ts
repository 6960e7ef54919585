// Which Istio resources reach one proxy: the `istio` filter metadata (`config: /apis/<group>/<version>/
// namespaces/<ns>/<kind>/<name>`) that pilot stamps on the routes and clusters it generates from them.
import { TypeUrl } from '../../xds/type-urls.js';
import { structToJson, type CanonicalStruct } from '../../xds/struct.js';
import type { Generator, ProxyRef } from '../generator.js';

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

/** The resources whose generated config (routes, clusters, listeners) this proxy receives. */
export function reachedResources(gen: Generator, proxy: ProxyRef): Set<string> {
  const out = new Set<string>();
  collect(gen.generate(proxy, TypeUrl.LISTENER, []), out, 0);
  collect(gen.generate(proxy, TypeUrl.CLUSTER, []), out, 0);
  collect(gen.generate(proxy, TypeUrl.ROUTE, gen.routeNames(proxy)), out, 0);
  return out;
}
