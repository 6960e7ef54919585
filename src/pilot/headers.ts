// VirtualService header operations → Envoy headers-to-add/remove on routes and weighted clusters.
import type { Headers, HeaderOperations } from '../api/kinds/networking/virtual-service.js';
import type {
  envoy_config_core_v3_HeaderValueOption as HeaderValueOption,
  envoy_config_route_v3_Route as Route,
} from '../xds/envoy-types.js';

/** The header fields Route, VirtualHost and WeightedCluster.ClusterWeight share (same names in each). */
type HeaderTarget = Pick<
  Route,
  'requestHeadersToAdd' | 'requestHeadersToRemove' | 'responseHeadersToAdd' | 'responseHeadersToRemove'
>;

function toAdd(ops: HeaderOperations | undefined): HeaderValueOption[] {
  const out: HeaderValueOption[] = [];
  for (const [key, value] of Object.entries(ops?.set ?? {}))
    out.push({ header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  // APPEND_IF_EXISTS_OR_ADD is the enum's default, so canonical form leaves it out.
  for (const [key, value] of Object.entries(ops?.add ?? {})) out.push({ header: { key, value } });
  return out;
}

/** Writes the header operations of `h` onto a Route or ClusterWeight (Envoy field names are the same). */
export function applyHeaders(target: HeaderTarget, h: Headers | undefined): void {
  if (!h) return;
  const reqAdd = toAdd(h.request);
  if (reqAdd.length) target.requestHeadersToAdd = [...(target.requestHeadersToAdd ?? []), ...reqAdd];
  if (h.request?.remove?.length)
    target.requestHeadersToRemove = [...(target.requestHeadersToRemove ?? []), ...h.request.remove];
  const resAdd = toAdd(h.response);
  if (resAdd.length) target.responseHeadersToAdd = [...(target.responseHeadersToAdd ?? []), ...resAdd];
  if (h.response?.remove?.length)
    target.responseHeadersToRemove = [...(target.responseHeadersToRemove ?? []), ...h.response.remove];
}
