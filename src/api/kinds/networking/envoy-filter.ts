// EnvoyFilter (networking.istio.io): patches applied to the Envoy configuration generated for selected proxies.
import {
  obj,
  str,
  int,
  int32,
  enumOf,
  list,
  record,
  anyValue,
  exactlyOne,
  isPlainObject,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkPort } from '../../checks.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { patchValueProblems, PATCH_VALUE_TYPES } from './envoy-filter-value.js';
import { checkSelectorLabels } from './common.js';
import { checkRe2 } from './string-match.js';
import {
  checkTargetRef,
  policyTargetRef,
  workloadSelector,
  type PolicyTargetReference,
  type WorkloadSelector,
} from './workload-selector.js';

/** EnvoyFilter.spec. */
export interface EnvoyFilterSpec {
  /** Workloads whose proxies are patched; absent (and no targetRefs) = all in the namespace. */
  workloadSelector?: WorkloadSelector;
  /** Gateways / services to attach to (excludes workloadSelector). */
  targetRefs?: PolicyTargetReference[];
  /** Patches, applied in order. */
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

// ---------- schema ----------

const PORT = (): Validator<number> => int(0, 4294967295, checkPort);

const APPLY_TO = [
  'INVALID',
  'LISTENER',
  'FILTER_CHAIN',
  'NETWORK_FILTER',
  'HTTP_FILTER',
  'ROUTE_CONFIGURATION',
  'VIRTUAL_HOST',
  'HTTP_ROUTE',
  'CLUSTER',
  'EXTENSION_CONFIG',
  'BOOTSTRAP',
  'LISTENER_FILTER',
] as const;
const OPERATIONS = [
  'INVALID',
  'MERGE',
  'ADD',
  'REMOVE',
  'INSERT_BEFORE',
  'INSERT_AFTER',
  'INSERT_FIRST',
  'REPLACE',
] as const;

/** Old Envoy filter names and their current names (matching on the old ones still works, with a warning). */
const DEPRECATED_FILTER_NAMES: Record<string, string> = {
  'envoy.http_connection_manager': 'envoy.filters.network.http_connection_manager',
  'envoy.tcp_proxy': 'envoy.filters.network.tcp_proxy',
  'envoy.router': 'envoy.filters.http.router',
  'envoy.cors': 'envoy.filters.http.cors',
  'envoy.fault': 'envoy.filters.http.fault',
  'envoy.lua': 'envoy.filters.http.lua',
  'envoy.ext_authz': 'envoy.filters.http.ext_authz',
  'envoy.grpc_web': 'envoy.filters.http.grpc_web',
  'envoy.health_check': 'envoy.filters.http.health_check',
  'envoy.rate_limit': 'envoy.filters.http.ratelimit',
  'envoy.listener.tls_inspector': 'envoy.filters.listener.tls_inspector',
  'envoy.listener.original_dst': 'envoy.filters.listener.original_dst',
  'envoy.listener.http_inspector': 'envoy.filters.listener.http_inspector',
};
const HCM = 'envoy.filters.network.http_connection_manager';

function warnDeprecatedName(name: string | undefined, at: At, c: Checker): void {
  if (name && DEPRECATED_FILTER_NAMES[name])
    c.warn(
      at,
      `deprecated filter name ${JSON.stringify(name)}; use ${JSON.stringify(DEPRECATED_FILTER_NAMES[name])}`,
    );
}

const filterChainMatch = (): Validator<FilterChainMatch> =>
  obj<FilterChainMatch>({
    name: str(),
    sni: str(),
    transportProtocol: str(),
    applicationProtocols: str(),
    filter: obj<FilterMatch>({ name: str(), subFilter: obj({ name: str() }) }),
    destinationPort: PORT(),
  });

const objectMatch = (): Validator<EnvoyConfigObjectMatch> =>
  obj<EnvoyConfigObjectMatch>(
    {
      context: enumOf(['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY'] as const),
      proxy: obj<ProxyMatch>({ proxyVersion: str(checkRe2), metadata: record(str()) }),
      listener: obj<ListenerMatch>({
        portNumber: PORT(),
        portName: { v: str(), deprecated: 'portName is not implemented; use portNumber' },
        filterChain: filterChainMatch(),
        listenerFilter: str(),
        name: str(),
      }),
      routeConfiguration: obj<RouteConfigurationMatch>({
        portNumber: PORT(),
        portName: str(),
        gateway: str(),
        vhost: obj<VirtualHostMatch>({
          name: str(),
          domainName: str(),
          route: obj<RouteMatch>({
            name: str(),
            action: enumOf(['ANY', 'ROUTE', 'REDIRECT', 'DIRECT_RESPONSE'] as const),
          }),
        }),
        name: str(),
      }),
      cluster: obj<ClusterMatch>({ portNumber: PORT(), service: str(), subset: str(), name: str() }),
    },
    {
      rules: (m, at, c) =>
        exactlyOne(m as Record<string, unknown>, ['listener', 'routeConfiguration', 'cluster'], at, c, true),
    },
  );

const LISTENER_CLASS = ['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER'];
const ROUTE_CLASS = ['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'];

/** applyTo, match and patch must line up, as Istio's EnvoyFilter validation requires. */
function patchRules(p: EnvoyConfigObjectPatch, at: At, c: Checker): void {
  const f = (k: keyof EnvoyConfigObjectPatch): At => child(at, p, k);
  if (!p.applyTo || p.applyTo === 'INVALID')
    c.error(f('applyTo'), `is required: one of ${APPLY_TO.slice(1).join(', ')}`);
  if (!p.patch) {
    c.error(f('patch'), 'is required');
    return;
  }
  const patchAt = f('patch');
  if (!p.patch.operation || p.patch.operation === 'INVALID')
    c.error(child(patchAt, p.patch, 'operation'), `is required: one of ${OPERATIONS.slice(1).join(', ')}`);
  else if (p.patch.operation !== 'REMOVE' && p.patch.value === undefined)
    c.error(child(patchAt, p.patch, 'value'), `is required for operation ${p.patch.operation}`);
  if (p.patch.value !== undefined && !isPlainObject(p.patch.value))
    c.error(child(patchAt, p.patch, 'value'), 'must be an object (an Envoy config fragment)');
  else if (p.patch.value !== undefined && p.applyTo && p.patch.operation !== 'REMOVE') {
    // MERGE values are partial messages of the same type, so they are checked the same way.
    const vAt = child(patchAt, p.patch, 'value');
    for (const pr of patchValueProblems(p.applyTo, p.patch.value)) {
      const at = { ...vAt, path: vAt.path + pr.path };
      const msg = `not a valid ${PATCH_VALUE_TYPES[p.applyTo]} (applyTo ${p.applyTo}): ${pr.message}`;
      if (pr.severity === 'error') c.error(at, msg);
      else c.warn(at, pr.message);
    }
  }
  const m = p.match;
  if (!m || !p.applyTo) return;
  const matchAt = f('match');
  const kind = m.listener
    ? 'listener'
    : m.routeConfiguration
      ? 'routeConfiguration'
      : m.cluster
        ? 'cluster'
        : undefined;
  if (!kind) return;
  if (LISTENER_CLASS.includes(p.applyTo)) {
    if (kind !== 'listener') c.error(matchAt, `applyTo ${p.applyTo} needs a listener match, not ${kind}`);
    else listenerFilterRules(p.applyTo, m.listener!, child(matchAt, m, 'listener'), c);
  } else if (ROUTE_CLASS.includes(p.applyTo) && kind !== 'routeConfiguration')
    c.error(matchAt, `applyTo ${p.applyTo} needs a routeConfiguration match, not ${kind}`);
  else if (p.applyTo === 'CLUSTER' && kind !== 'cluster')
    c.error(matchAt, `applyTo CLUSTER needs a cluster match, not ${kind}`);
}

function listenerFilterRules(applyTo: string, l: ListenerMatch, at: At, c: Checker): void {
  const filter = l.filterChain?.filter;
  if (!filter) return;
  const fAt = child(child(at, l, 'filterChain'), l.filterChain!, 'filter');
  if (applyTo === 'LISTENER' || applyTo === 'FILTER_CHAIN')
    c.warn(fAt, `a filter match has no effect with applyTo ${applyTo}`);
  if (!filter.name) {
    c.error(child(fAt, filter, 'name'), 'a filter match needs a filter name');
    return;
  }
  warnDeprecatedName(filter.name, child(fAt, filter, 'name'), c);
  if (!filter.subFilter) return;
  const sAt = child(fAt, filter, 'subFilter');
  if (applyTo !== 'HTTP_FILTER') c.error(sAt, 'a subFilter match can be used with applyTo HTTP_FILTER only');
  else if (filter.name !== HCM && filter.name !== 'envoy.http_connection_manager')
    c.error(sAt, `a subFilter match needs filter name ${HCM}`);
  else if (!filter.subFilter.name)
    c.error(child(sAt, filter.subFilter, 'name'), 'a subFilter match needs a name');
  else warnDeprecatedName(filter.subFilter.name, child(sAt, filter.subFilter, 'name'), c);
}

const configPatch = (): Validator<EnvoyConfigObjectPatch> =>
  obj<EnvoyConfigObjectPatch>(
    {
      applyTo: enumOf(APPLY_TO),
      match: objectMatch(),
      patch: obj<Patch>({
        operation: enumOf(OPERATIONS),
        value: anyValue(),
        filterClass: enumOf(['UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS'] as const),
      }),
    },
    { rules: patchRules },
  );

/** Schema of EnvoyFilter.spec. */
export const envoyFilterSpec = (): Validator<EnvoyFilterSpec> =>
  obj<EnvoyFilterSpec>(
    {
      workloadSelector: workloadSelector(),
      targetRefs: list(policyTargetRef()),
      configPatches: list(configPatch()),
      priority: int32(),
    },
    {
      rules: (s, at, c) => {
        c.warn(
          at,
          'EnvoyFilter exposes internal implementation details that may change at any time; prefer other APIs and take care on upgrades',
        );
        // Checked like Istio checks it, but no generator applies the patches yet: say so, never ignore quietly.
        c.warn(
          at,
          'EnvoyFilter is not applied by Mizzen: its patches are validated but do not change any proxy configuration',
          'MZ-NOT-ENFORCED',
        );
        if (s.workloadSelector)
          checkSelectorLabels(s.workloadSelector.labels, child(at, s, 'workloadSelector'), 'labels', c);
        if (s.workloadSelector && s.targetRefs?.length)
          c.error(child(at, s, 'targetRefs'), 'only one of targetRefs and workloadSelector may be set');
        s.targetRefs?.forEach((r, i) =>
          checkTargetRef(r, child(child(at, s, 'targetRefs'), s.targetRefs!, i), c),
        );
      },
    },
  );

/** The EnvoyFilter kind. */
export const envoyFilterKind = istioKind('EnvoyFilter', ISTIO_VERSIONS.networking, envoyFilterSpec());
