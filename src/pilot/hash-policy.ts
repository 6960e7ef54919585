// DestinationRule consistentHash → the route's Envoy hash policies (ring hash / maglev keys).
import type { ConsistentHashLB } from '../api/kinds/networking/destination-rule.js';
import type {
  envoy_config_route_v3_RouteAction_HashPolicy as HashPolicy,
  envoy_config_route_v3_RouteAction_HashPolicy_Cookie as HashPolicyCookie,
} from '../xds/envoy-types.js';
import { protoDuration } from './envoy.js';

/** The hashPolicy list for a route to a destination with this consistentHash; empty when none. */
export function translateHashPolicy(ch: ConsistentHashLB | undefined): HashPolicy[] {
  if (!ch) return [];
  if (ch.httpHeaderName) return [{ header: { headerName: ch.httpHeaderName.toLowerCase() } }];
  if (ch.httpCookie) {
    const cookie: HashPolicyCookie = { name: ch.httpCookie.name };
    const ttl = protoDuration(ch.httpCookie.ttl);
    if (ttl) cookie.ttl = ttl;
    if (ch.httpCookie.path) cookie.path = ch.httpCookie.path;
    return [{ cookie }];
  }
  if (ch.useSourceIp) return [{ connectionProperties: { sourceIp: true } }];
  if (ch.httpQueryParameterName) return [{ queryParameter: { name: ch.httpQueryParameterName } }];
  return [];
}
