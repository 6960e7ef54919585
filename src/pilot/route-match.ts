// VirtualService HTTPMatchRequest → Envoy RouteMatch (path, headers, query parameters).
import type { HTTPMatchRequest, StringMatch } from '../api/kinds/networking/virtual-service.js';
import type {
  envoy_config_route_v3_HeaderMatcher as HeaderMatcher,
  envoy_config_route_v3_QueryParameterMatcher as QueryParameterMatcher,
  envoy_config_route_v3_RouteMatch as RouteMatch,
  envoy_type_matcher_v3_StringMatcher as StringMatcher,
} from '../xds/envoy-types.js';

/** A StringMatch as an Envoy StringMatcher; null for an empty match (`{}` = "present"). */
export function translateStringMatch(m: StringMatch | undefined, ignoreCase = false): StringMatcher | null {
  if (!m) return null;
  let out: StringMatcher | null = null;
  if (m.exact !== undefined) out = { exact: m.exact };
  else if (m.prefix !== undefined) out = { prefix: m.prefix };
  else if (m.regex !== undefined) out = { safeRegex: { regex: m.regex } };
  if (out && ignoreCase && m.regex === undefined) out.ignoreCase = true;
  return out;
}

/** A header (or pseudo-header) condition; `invert` for withoutHeaders. */
export function translateHeaderMatch(
  name: string,
  m: StringMatch | undefined,
  invert = false,
): HeaderMatcher {
  const sm = translateStringMatch(m);
  const out: HeaderMatcher = { name: name.toLowerCase() };
  if (sm) out.stringMatch = sm;
  else out.presentMatch = true;
  if (invert) out.invertMatch = true;
  return out;
}

/** The Envoy RouteMatch of one match entry (absent = match everything). */
export function translateRouteMatch(m: HTTPMatchRequest | undefined): RouteMatch {
  const out: RouteMatch = {};
  const uri = m?.uri;
  if (uri?.exact !== undefined) out.path = uri.exact;
  else if (uri?.prefix !== undefined) out.prefix = uri.prefix;
  else if (uri?.regex !== undefined) out.safeRegex = { regex: uri.regex };
  else out.prefix = '/';
  if (m?.ignoreUriCase && uri?.regex === undefined) out.caseSensitive = { value: false };
  if (!m) return out;
  const headers: HeaderMatcher[] = [];
  for (const [name, sm] of Object.entries(m.headers ?? {})) headers.push(translateHeaderMatch(name, sm));
  if (m.authority) headers.push(translateHeaderMatch(':authority', m.authority));
  if (m.method) headers.push(translateHeaderMatch(':method', m.method));
  if (m.scheme) headers.push(translateHeaderMatch(':scheme', m.scheme));
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {}))
    headers.push(translateHeaderMatch(name, sm, true));
  if (headers.length > 0) out.headers = headers;
  const qps: QueryParameterMatcher[] = [];
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
    const s = translateStringMatch(sm);
    qps.push(s ? { name, stringMatch: s } : { name, presentMatch: true });
  }
  if (qps.length > 0) out.queryParameters = qps;
  return out;
}

/**
 * True when the match entry applies to this proxy and port: `port`, `sourceLabels`, `sourceNamespace`
 * and `gateways` are decided at config time, as Istio does.
 */
export function matchApplies(
  m: HTTPMatchRequest,
  ctx: {
    port: number | null;
    labels: Readonly<Record<string, string>>;
    namespace: string;
    gateways: ReadonlySet<string>;
  },
  resolveGateway: (ref: string) => string,
): boolean {
  if (m.port !== undefined && ctx.port !== null && m.port !== ctx.port) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== ctx.namespace) return false;
  if (m.sourceLabels)
    for (const [k, v] of Object.entries(m.sourceLabels)) if (ctx.labels[k] !== v) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.some((g) => ctx.gateways.has(resolveGateway(g))))
    return false;
  return true;
}
