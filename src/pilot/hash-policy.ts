// DestinationRule consistentHash → the route's Envoy hash policies (ring hash / maglev keys).
import type { ConsistentHashLB } from '../api/kinds/networking/destination-rule.js';
import { protoDuration, type Envoy } from './envoy.js';

/** The hashPolicy list for a route to a destination with this consistentHash; empty when none. */
export function translateHashPolicy(ch: ConsistentHashLB | undefined): Envoy[] {
  if (!ch) return [];
  if (ch.httpHeaderName) return [{ header: { headerName: ch.httpHeaderName.toLowerCase() } }];
  if (ch.httpCookie) {
    const cookie: Envoy = { name: ch.httpCookie.name };
    const ttl = protoDuration(ch.httpCookie.ttl);
    if (ttl) cookie.ttl = ttl;
    if (ch.httpCookie.path) cookie.path = ch.httpCookie.path;
    return [{ cookie }];
  }
  if (ch.useSourceIp) return [{ connectionProperties: { sourceIp: true } }];
  if (ch.httpQueryParameterName) return [{ queryParameter: { name: ch.httpQueryParameterName } }];
  return [];
}
