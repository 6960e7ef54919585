// The security filters of a proxy's inbound (sidecar) or gateway chains: JWT authentication and
// RBAC for HTTP chains, network RBAC for TCP chains; empty when no policy applies.
import type { AuthorizationPolicy } from '../../api/kinds/security/authorization-policy.js';
import type { RequestAuthentication } from '../../api/kinds/security/request-authentication.js';
import { buildJwtFilter } from '../authn/jwt-filter.js';
import type {
  envoy_config_listener_v3_Filter as Filter,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpFilter as HttpFilter,
} from '../../xds/envoy-types.js';
import type { ProxyScope } from '../scoping.js';
import { buildCustomFilters } from './ext-authz-filters.js';
import { policiesFor } from './policy-selection.js';
import { buildHttpRbacFilters, buildNetworkRbacFilters } from './rbac-filters.js';

/** Filters to put in front of a chain's terminal filter. */
export interface SecurityFilters {
  /** HTTP filters, first in the HCM (before CORS, fault and router). */
  readonly http: readonly HttpFilter[];
  /** Network filters before tcp_proxy. */
  readonly tcp: readonly Filter[];
}

/** No policy applies. */
export const NO_SECURITY_FILTERS: SecurityFilters = Object.freeze({ http: [], tcp: [] });

/** Builds the security filters for the proxy's inbound or gateway chains. */
export function buildSecurityFilters(scope: ProxyScope): SecurityFilters {
  const authz = policiesFor(scope, 'AuthorizationPolicy') as AuthorizationPolicy[];
  const jwt = buildJwtFilter(policiesFor(scope, 'RequestAuthentication') as RequestAuthentication[]);
  if (authz.length === 0 && jwt === null) return NO_SECURITY_FILTERS;
  // Istio's order: authentication, then CUSTOM (ext_authz), then AUDIT, DENY, ALLOW.
  const custom = buildCustomFilters(authz, scope.push);
  const http = [...(jwt !== null ? [jwt] : []), ...custom.http, ...buildHttpRbacFilters(authz)];
  return { http, tcp: [...custom.tcp, ...buildNetworkRbacFilters(authz)] };
}
