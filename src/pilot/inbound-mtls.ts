// The inbound filter chains of one workload port under its PeerAuthentication mode (Istio's
// inbound mTLS chains): STRICT terminates Istio mutual TLS only; PERMISSIVE adds a plaintext chain on
// the same port, told apart per connection by the TLS inspector (TLS with Istio's ALPN → mTLS,
// anything else → plaintext, which also lets a non-mesh client's own TLS through untouched);
// DISABLE serves plaintext only.
import type {
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_listener_v3_FilterChain as FilterChain,
  envoy_config_listener_v3_ListenerFilter as ListenerFilter,
} from '../xds/envoy-types.js';
import { anyOf, FILTERS, TYPES } from './envoy.js';
import {
  ALPN_DOWNSTREAM,
  ALPN_HTTP,
  buildIstioMutualServer,
  MTLS_APPLICATION_PROTOCOLS,
} from './istio-mutual.js';
import type { EffectiveMtlsMode } from './peer-authentication.js';
import type { ProxyScope } from './scoping.js';

/** The mTLS mode of one of the proxy's own workload ports. */
export function inboundMtlsMode(scope: ProxyScope, port: number): EffectiveMtlsMode {
  const p = scope.proxy;
  return scope.push.peerAuthn.modeFor(p.namespace, p.labels, port).mode;
}

/**
 * The chains for a port: `base` holds what every chain shares (name, destination port match), and
 * `filters` builds the network filters (called once per chain).
 */
export function inboundChains(
  mode: EffectiveMtlsMode,
  base: FilterChain,
  filters: () => Filter[],
): FilterChain[] {
  const match = base.filterChainMatch ?? {};
  const plain: FilterChain = { ...base, filters: filters() };
  if (mode === 'DISABLE') return [plain];
  const mtlsFilters = filters();
  // Istio's BuildInboundTLS: istio-peer-exchange is accepted on TCP chains only, so an HTTP chain never
  // agrees to a metadata exchange it would not strip.
  const http = mtlsFilters.some((f) => f.name === FILTERS.HCM);
  const mtls: FilterChain = {
    ...base,
    filterChainMatch: {
      ...match,
      transportProtocol: 'tls',
      ...(mode === 'PERMISSIVE' ? { applicationProtocols: [...MTLS_APPLICATION_PROTOCOLS] } : {}),
    },
    transportSocket: buildIstioMutualServer(http ? ALPN_HTTP : ALPN_DOWNSTREAM),
    filters: mtlsFilters,
  };
  if (base.name) mtls.name = `${base.name}-mtls`;
  return mode === 'STRICT' ? [mtls] : [mtls, plain];
}

/** The TLS inspector listener filter (Istio adds it wherever a chain matches on TLS). */
export function tlsInspector(): ListenerFilter {
  return { name: FILTERS.TLS_INSPECTOR, typedConfig: anyOf(TYPES.TLS_INSPECTOR, {}) };
}
