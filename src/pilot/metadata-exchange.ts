// Istio's TCP metadata exchange filter (`istio.metadata_exchange`, xdsfilters.TCPListenerMx and
// TCPClusterMx): first on every inbound TCP filter chain and on every outbound cluster, so two sidecars
// that negotiated ALPN `istio-peer-exchange` over mutual TLS swap their node metadata (for the peer
// labels of Istio's TCP metrics). istiod also sets enable_discovery (workload discovery, which Mizzen
// does not have); it is left out rather than sent and not honoured.
import { structFromJson } from '../xds/struct.js';
import type { envoy_config_listener_v3_Filter as Filter } from '../xds/envoy-types.js';
import { anyOf, TYPES } from './envoy.js';

/** The filter's name (Istio's MxFilterName). */
export const METADATA_EXCHANGE_FILTER = 'istio.metadata_exchange';
/** The ALPN value the exchange runs on (offered by ALPN_IN_MESH clients, accepted by ALPN_DOWNSTREAM). */
export const METADATA_EXCHANGE_ALPN = 'istio-peer-exchange';

/** The filter, for a listener's filter chain or a cluster's `filters` (same shape in both). */
export function buildMetadataExchangeFilter(): Filter {
  return {
    name: METADATA_EXCHANGE_FILTER,
    typedConfig: anyOf(TYPES.TYPED_STRUCT, {
      typeUrl: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange',
      value: structFromJson({ protocol: METADATA_EXCHANGE_ALPN }),
    }),
  };
}
