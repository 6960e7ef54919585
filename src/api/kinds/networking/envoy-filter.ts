// EnvoyFilter (networking.istio.io): patches applied to the Envoy configuration generated for selected proxies.
import type { SpecResource } from '../../resource.js';
import type { PolicyTargetReference, WorkloadSelector } from './workload-selector.js';

/** EnvoyFilter.spec. */
export interface EnvoyFilterSpec {
  /** Workloads whose proxies are patched; absent (and no targetRefs) = all in the namespace. */
  workloadSelector?: WorkloadSelector;
  /** Gateways / services to attach to (excludes workloadSelector). */
  targetRefs?: PolicyTargetReference[];
  /** Patches, applied in order (required). */
  configPatches?: EnvoyConfigObjectPatch[];
  /** Order among EnvoyFilters (lower first; default 0; root namespace filters before others). */
  priority?: number;
}

/** An EnvoyFilter resource. */
export type EnvoyFilter = SpecResource<'EnvoyFilter', EnvoyFilterSpec>;

/** What a patch applies to. */
export type ApplyTo =
  | 'INVALID'
  | 'LISTENER'
  | 'FILTER_CHAIN'
  | 'NETWORK_FILTER'
  | 'HTTP_FILTER'
  | 'ROUTE_CONFIGURATION'
  | 'VIRTUAL_HOST'
  | 'HTTP_ROUTE'
  | 'CLUSTER'
  | 'EXTENSION_CONFIG'
  | 'BOOTSTRAP'
  | 'LISTENER_FILTER';

/** Where in the proxy a patch applies. */
export type PatchContext = 'ANY' | 'SIDECAR_INBOUND' | 'SIDECAR_OUTBOUND' | 'GATEWAY';

/** One patch: what to patch, which objects, and how. */
export interface EnvoyConfigObjectPatch {
  /** Kind of object patched (required, not INVALID). */
  applyTo?: ApplyTo;
  /** Which objects of that kind. */
  match?: EnvoyConfigObjectMatch;
  /** The change (required). */
  patch?: Patch;
}

/** Selects objects to patch; at most one of listener, routeConfiguration, cluster. */
export interface EnvoyConfigObjectMatch {
  /** Traffic context; default ANY. */
  context?: PatchContext;
  /** Proxy version / metadata conditions. */
  proxy?: ProxyMatch;
  /** Listener conditions (LISTENER, FILTER_CHAIN, NETWORK_FILTER, HTTP_FILTER, LISTENER_FILTER). */
  listener?: ListenerMatch;
  /** Route configuration conditions (ROUTE_CONFIGURATION, VIRTUAL_HOST, HTTP_ROUTE). */
  routeConfiguration?: RouteConfigurationMatch;
  /** Cluster conditions (CLUSTER). */
  cluster?: ClusterMatch;
}

/** Conditions on the proxy. */
export interface ProxyMatch {
  /** RE2 regex on the proxy's Istio version, e.g. `^1\.2[0-9].*`. */
  proxyVersion?: string;
  /** Node metadata key → value that must all match. */
  metadata?: Record<string, string>;
}

/** Conditions on a listener. */
export interface ListenerMatch {
  /** Listener port (1–65535). */
  portNumber?: number;
  /** Deprecated / not implemented: port name. */
  portName?: string;
  /** Filter chain conditions. */
  filterChain?: FilterChainMatch;
  /** Listener filter name (LISTENER_FILTER). */
  listenerFilter?: string;
  /** Listener name, e.g. `virtualInbound`. */
  name?: string;
}

/** Conditions on a filter chain. */
export interface FilterChainMatch {
  /** Filter chain name. */
  name?: string;
  /** SNI matched by the chain. */
  sni?: string;
  /** `tls` or `raw_buffer`. */
  transportProtocol?: string;
  /** ALPN values, comma-separated. */
  applicationProtocols?: string;
  /** Network filter (and HTTP sub-filter) conditions. */
  filter?: FilterMatch;
  /** Destination port of the chain (inbound sidecar), 1–65535. */
  destinationPort?: number;
}

/** Conditions on a network filter. */
export interface FilterMatch {
  /** Filter name, e.g. `envoy.filters.network.http_connection_manager`. */
  name?: string;
  /** HTTP filter inside the HTTP connection manager. */
  subFilter?: { name?: string };
}

/** Conditions on a route configuration. */
export interface RouteConfigurationMatch {
  /** Service port the route configuration is for (1–65535). */
  portNumber?: number;
  /** Gateway port name (gateways only). */
  portName?: string;
  /** Istio Gateway `namespace/name` (gateways only). */
  gateway?: string;
  /** Virtual host conditions. */
  vhost?: VirtualHostMatch;
  /** Route configuration name. */
  name?: string;
}

/** Conditions on a virtual host. */
export interface VirtualHostMatch {
  /** Virtual host name, e.g. `reviews.default.svc.cluster.local:9080`. */
  name?: string;
  /** A domain the virtual host serves. */
  domainName?: string;
  /** Route conditions. */
  route?: RouteMatch;
}

/** Conditions on a route. */
export interface RouteMatch {
  /** Route name. */
  name?: string;
  /** Route action kind; default ANY. */
  action?: 'ANY' | 'ROUTE' | 'REDIRECT' | 'DIRECT_RESPONSE';
}

/** Conditions on a cluster. */
export interface ClusterMatch {
  /** Service port (1–65535). */
  portNumber?: number;
  /** Service FQDN. */
  service?: string;
  /** Subset name. */
  subset?: string;
  /** Cluster name, e.g. `outbound|9080|v1|reviews.default.svc.cluster.local`. */
  name?: string;
}

/** Patch operations. */
export type PatchOperation =
  'INVALID' | 'MERGE' | 'ADD' | 'REMOVE' | 'INSERT_BEFORE' | 'INSERT_AFTER' | 'INSERT_FIRST' | 'REPLACE';

/** The change itself. */
export interface Patch {
  /** Operation (required, not INVALID). */
  operation?: PatchOperation;
  /** Envoy config fragment (google.protobuf.Struct) to merge, add or insert. */
  value?: unknown;
  /** Where an added HTTP filter goes relative to Istio's own (AUTHN, AUTHZ, STATS). */
  filterClass?: 'UNSPECIFIED' | 'AUTHN' | 'AUTHZ' | 'STATS';
}
