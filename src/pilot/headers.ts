// VirtualService header operations → Envoy headers-to-add/remove on routes and weighted clusters.
import type { Headers, HeaderOperations } from '../api/kinds/networking/virtual-service.js';
import type { Envoy } from './envoy.js';

function toAdd(ops: HeaderOperations | undefined): Envoy[] {
  const out: Envoy[] = [];
  for (const [key, value] of Object.entries(ops?.set ?? {}))
    out.push({ header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  // APPEND_IF_EXISTS_OR_ADD is the enum's default, so canonical form leaves it out.
  for (const [key, value] of Object.entries(ops?.add ?? {})) out.push({ header: { key, value } });
  return out;
}

/** Writes the header operations of `h` onto a Route or ClusterWeight (Envoy field names are the same). */
export function applyHeaders(target: Envoy, h: Headers | undefined): void {
  if (!h) return;
  const reqAdd = toAdd(h.request);
  if (reqAdd.length)
    target.requestHeadersToAdd = [...((target.requestHeadersToAdd as Envoy[]) ?? []), ...reqAdd];
  if (h.request?.remove?.length)
    target.requestHeadersToRemove = [
      ...((target.requestHeadersToRemove as string[]) ?? []),
      ...h.request.remove,
    ];
  const resAdd = toAdd(h.response);
  if (resAdd.length)
    target.responseHeadersToAdd = [...((target.responseHeadersToAdd as Envoy[]) ?? []), ...resAdd];
  if (h.response?.remove?.length)
    target.responseHeadersToRemove = [
      ...((target.responseHeadersToRemove as string[]) ?? []),
      ...h.response.remove,
    ];
}
