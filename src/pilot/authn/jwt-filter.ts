// RequestAuthentication jwtRules → one envoy.filters.http.jwt_authn filter, as istiod builds it: one
// provider per rule (`origins-N`, sorted by issuer), each token optional but checked when present, the
// payload in dynamic metadata under `payload` for RBAC's requestPrincipals and claims.
import type { JWTRule, RequestAuthentication } from '../../api/kinds/security/request-authentication.js';
import type {
  envoy_extensions_filters_http_jwt_authn_v3_JwtProvider as JwtProvider,
  envoy_extensions_filters_http_jwt_authn_v3_JwtRequirement as JwtRequirement,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpFilter as HttpFilter,
} from '../../xds/envoy-types.js';
import { anyOf, duration, outboundClusterName, protoDuration, TYPES } from '../envoy.js';

export const JWT_AUTHN = 'envoy.filters.http.jwt_authn';

/** Claims Istio always splits on spaces in the metadata payload. */
const DEFAULT_SPACE_DELIMITED = ['permission', 'scope'];

/** The JWKS source of a rule: remote (fetched by the proxy) for jwksUri, inline for jwks. */
function jwksSource(r: JWTRule): Pick<JwtProvider, 'remoteJwks' | 'localJwks'> {
  if (r.jwksUri) {
    const u = new URL(r.jwksUri);
    const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    return {
      remoteJwks: {
        httpUri: {
          uri: r.jwksUri,
          // Envoy fetches through this cluster; Mizzen's proxy fetches the URI directly.
          cluster: outboundClusterName(port, '', u.hostname),
          timeout: protoDuration(r.timeout) ?? duration(5000),
        },
        cacheDuration: duration(300_000),
      },
    };
  }
  let text = r.jwks ?? '{"keys":[]}';
  const doc = JSON.parse(text) as Record<string, unknown>;
  if (!Array.isArray(doc.keys)) text = JSON.stringify({ keys: [doc] });
  return { localJwks: { inlineString: text } };
}

function provider(r: JWTRule): JwtProvider {
  // No issuer (allowed with jwksUri): any issuer whose keys verify, as Envoy does for an empty issuer.
  const p: JwtProvider = {
    ...(r.issuer ? { issuer: r.issuer } : {}),
    ...jwksSource(r),
    payloadInMetadata: 'payload',
  };
  if (r.audiences?.length) p.audiences = r.audiences;
  if (r.forwardOriginalToken) p.forward = true;
  if (r.outputPayloadToHeader) p.forwardPayloadHeader = r.outputPayloadToHeader;
  if (r.fromHeaders?.length)
    p.fromHeaders = r.fromHeaders.map((h) =>
      h.prefix ? { name: h.name, valuePrefix: h.prefix } : { name: h.name },
    );
  if (r.fromParams?.length) p.fromParams = r.fromParams;
  if (r.fromCookies?.length) p.fromCookies = r.fromCookies;
  if (r.outputClaimToHeaders?.length)
    p.claimToHeaders = r.outputClaimToHeaders.map((c) => ({ headerName: c.header, claimName: c.claim }));
  const claims = [...new Set([...(r.spaceDelimitedClaims ?? []), ...DEFAULT_SPACE_DELIMITED])].sort();
  p.normalizePayloadInMetadata = { spaceDelimitedClaims: claims };
  return p;
}

/** The jwt_authn filter for the RequestAuthentications of a proxy, or null when they have no rules. */
export function buildJwtFilter(policies: readonly RequestAuthentication[]): HttpFilter | null {
  const rules = policies
    .flatMap((p) => p.spec?.jwtRules ?? [])
    .sort((a, b) => ((a.issuer ?? '') < (b.issuer ?? '') ? -1 : (a.issuer ?? '') > (b.issuer ?? '') ? 1 : 0));
  if (rules.length === 0) return null;
  const providers: Record<string, JwtProvider> = {};
  const inner: JwtRequirement[] = [];
  const outer: JwtRequirement[] = [];
  rules.forEach((r, i) => {
    const name = `origins-${i}`;
    providers[name] = provider(r);
    inner.push({ requiresAny: { requirements: [{ providerName: name }, { allowMissing: {} }] } });
    outer.push({ providerName: name });
  });
  // One provider: {provider OR allow_missing}. More: {P1 OR P2 ... OR AND{P1 or missing, P2 or missing ...}},
  // so a token, when present, must be valid for one of them, and providers may share a location.
  const requires: JwtRequirement =
    inner.length === 1
      ? inner[0]
      : { requiresAny: { requirements: [...outer, { requiresAll: { requirements: inner } }] } };
  return {
    name: JWT_AUTHN,
    typedConfig: anyOf(TYPES.JWT_AUTHN, {
      providers,
      rules: [{ match: { prefix: '/' }, requires }],
      bypassCorsPreflight: true,
    }),
  };
}
