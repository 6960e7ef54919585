// Registry of HTTP filter factories by Envoy filter name and config type; compiles per-route configs.
import { anyTypeName } from '../../util/values.js';
import { bufferFactory } from './buffer/buffer-filter.js';
import { corsFactory } from './cors/cors-filter.js';
import { extAuthzFactory } from './ext-authz/ext-authz-filter.js';
import { faultFactory } from './fault/fault-filter.js';
import { jwtAuthnFactory } from './jwt-authn/jwt-authn-filter.js';
import { rbacFactory } from './rbac/rbac-filter.js';
import type { HttpFilterFactory } from './filter.js';
import { istioStatsFactory } from './istio-stats/istio-stats-filter.js';
import { routerFactory } from './router/router-filter.js';

const FACTORIES: HttpFilterFactory[] = [
  jwtAuthnFactory,
  rbacFactory,
  extAuthzFactory,
  faultFactory,
  corsFactory,
  bufferFactory,
  istioStatsFactory,
  routerFactory,
];

/**
 * Filters Istio installs for telemetry/protocol glue that do not change routing; an HCM that lists
 * them is accepted and they are skipped (Mizzen's own telemetry covers their job).
 */
const IGNORABLE = new Set([
  'istio.metadata_exchange',
  'istio.alpn',
  'envoy.filters.http.grpc_stats',
  'envoy.filters.http.grpc_web',
  'envoy.filters.http.wasm',
  'istio_authn',
]);

/** The factory for an HCM http_filters entry (by config type first, then by name), or null. */
export function findFactory(name: string, typedConfig: unknown): HttpFilterFactory | null {
  const t = anyTypeName(typedConfig);
  if (t) {
    const byType = FACTORIES.find((f) => f.configTypes.includes(t));
    if (byType) return byType;
  }
  return FACTORIES.find((f) => f.names.includes(name)) ?? null;
}

/** True when an unknown filter may be skipped without changing what the proxy enforces. */
export function isIgnorable(name: string): boolean {
  return IGNORABLE.has(name);
}

/** Compiles one typed_per_filter_config entry; null for filters without per-route config. */
export function compilePerRoute(name: string, config: unknown): unknown {
  const f = findFactory(name, config);
  if (!f || !f.compilePerRoute) return null;
  return f.compilePerRoute(config);
}

/** The canonical name of every HTTP filter this proxy implements (for error messages). */
export function knownFilterNames(): string[] {
  return FACTORIES.map((f) => f.names[0]);
}
