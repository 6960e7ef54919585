// EnvoyFilter and ProxyConfig validation tables: patch/match alignment, selectors, target refs, proxy settings.
import { runTable, type Case } from '../../test-util.js';

/** An EnvoyFilter document whose spec starts on line 7. */
const ef = (spec: string): string =>
  `apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: custom\n  namespace: istio-system\nspec:\n${spec}`;
const pc = (spec: string, version = 'v1beta1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: ProxyConfig\nmetadata:\n  name: per-workload\nspec:\n${spec}`;

const unstable = { path: 'spec', message: /EnvoyFilter exposes internal implementation details/ };

const filterCases: Case[] = [
  {
    name: 'Lua filter inserted before the router on inbound HTTP',
    yaml: ef(`  workloadSelector:
    labels: {app: reviews}
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        portNumber: 8080
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter: {name: envoy.filters.http.router}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.lua
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
          inlineCode: |
            function envoy_on_request(request_handle) end
`),
    warnings: [
      unstable,
      { path: 'spec', message: /EnvoyFilter is not applied by Mizzen/ },
      {
        path: 'spec.configPatches[0].patch.value.typed_config["@type"]',
        message: /envoy\.extensions\.filters\.http\.lua\.v3\.Lua is not among the Envoy protos Mizzen loads/,
      },
    ],
  },
  {
    name: 'cluster merge, route configuration patch, removal, proxy version match',
    yaml: ef(`  configPatches:
  - applyTo: CLUSTER
    match:
      context: SIDECAR_OUTBOUND
      cluster: {service: reviews.default.svc.cluster.local, portNumber: 9080}
    patch:
      operation: MERGE
      value: {connect_timeout: 0.5s}
  - applyTo: VIRTUAL_HOST
    match:
      context: GATEWAY
      routeConfiguration:
        portNumber: 80
        vhost: {name: "*:80", route: {action: ANY}}
    patch: {operation: REMOVE}
  - applyTo: NETWORK_FILTER
    match:
      proxy: {proxyVersion: '^1\\.2[0-9].*'}
      listener: {filterChain: {filter: {name: envoy.filters.network.tcp_proxy}}}
    patch:
      operation: MERGE
      value: {typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, idle_timeout: 60s}}
  priority: -10
`),
    warnings: [unstable],
  },
  {
    name: 'targetRefs to a Gateway',
    yaml: ef(`  targetRefs:
  - {group: gateway.networking.k8s.io, kind: Gateway, name: waypoint}
  configPatches:
  - applyTo: LISTENER
    patch: {operation: MERGE, value: {per_connection_buffer_limit_bytes: 1024}}
`),
  },
  // ---- invalid ----
  {
    name: 'patch without applyTo',
    yaml: ef('  configPatches:\n  - patch: {operation: MERGE, value: {a: 1}}\n'),
    errors: [{ path: 'spec.configPatches[0].applyTo', message: /is required/ }],
  },
  {
    name: 'unknown applyTo with suggestion',
    yaml: ef('  configPatches:\n  - applyTo: HTTP_FILTERS\n    patch: {operation: REMOVE}\n'),
    errors: [{ path: 'spec.configPatches[0].applyTo', message: /did you mean "HTTP_FILTER"/, line: 8 }],
  },
  {
    name: 'patch without operation',
    yaml: ef('  configPatches:\n  - applyTo: CLUSTER\n    patch: {value: {a: 1}}\n'),
    errors: [{ path: 'spec.configPatches[0].patch.operation', message: /is required/ }],
  },
  {
    name: 'MERGE without value',
    yaml: ef('  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: MERGE}\n'),
    errors: [{ path: 'spec.configPatches[0].patch.value', message: /is required for operation MERGE/ }],
  },
  {
    name: 'patch value not an object',
    yaml: ef('  configPatches:\n  - applyTo: CLUSTER\n    patch: {operation: ADD, value: "cluster"}\n'),
    errors: [{ path: 'spec.configPatches[0].patch.value', message: /must be an object/ }],
  },
  {
    name: 'cluster patch with a listener match',
    yaml: ef(
      '  configPatches:\n  - applyTo: CLUSTER\n    match: {listener: {portNumber: 80}}\n    patch: {operation: MERGE, value: {a: 1}}\n',
    ),
    errors: [{ path: 'spec.configPatches[0].match', message: /CLUSTER needs a cluster match/ }],
  },
  {
    name: 'HTTP_FILTER patch with a cluster match',
    yaml: ef(
      '  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {cluster: {name: x}}\n    patch: {operation: REMOVE}\n',
    ),
    errors: [{ path: 'spec.configPatches[0].match', message: /needs a listener match/ }],
  },
  {
    name: 'two object matches at once',
    yaml: ef(
      '  configPatches:\n  - applyTo: CLUSTER\n    match: {cluster: {name: x}, listener: {name: y}}\n    patch: {operation: REMOVE}\n',
    ),
    errors: [
      { path: 'spec.configPatches[0].match', message: /only one of listener, routeConfiguration, cluster/ },
    ],
  },
  {
    name: 'subFilter with a non-HCM filter',
    yaml: ef(`  configPatches:
  - applyTo: HTTP_FILTER
    match:
      listener:
        filterChain:
          filter: {name: envoy.filters.network.tcp_proxy, subFilter: {name: envoy.filters.http.router}}
    patch: {operation: REMOVE}
`),
    errors: [
      {
        path: 'spec.configPatches[0].match.listener.filterChain.filter.subFilter',
        message: /needs filter name/,
      },
    ],
  },
  {
    name: 'filter match without name',
    yaml: ef(`  configPatches:
  - applyTo: NETWORK_FILTER
    match: {listener: {filterChain: {filter: {}}}}
    patch: {operation: REMOVE}
`),
    errors: [
      {
        path: 'spec.configPatches[0].match.listener.filterChain.filter.name',
        message: /needs a filter name/,
      },
    ],
  },
  {
    name: 'proxyVersion regex invalid',
    yaml: ef(
      "  configPatches:\n  - applyTo: CLUSTER\n    match: {proxy: {proxyVersion: '^1\\.(2'}}\n    patch: {operation: REMOVE}\n",
    ),
    errors: [{ path: 'spec.configPatches[0].match.proxy.proxyVersion', message: /invalid RE2 regex/ }],
  },
  {
    name: 'targetRefs with workloadSelector, to a Deployment in another namespace',
    yaml: ef(`  workloadSelector: {labels: {app: a}}
  targetRefs: [{kind: Deployment, name: a, namespace: other}]
`),
    errors: [
      { path: 'spec.targetRefs', message: /only one of targetRefs and workloadSelector/ },
      { path: 'spec.targetRefs[0].namespace', message: /cross-namespace/ },
      { path: 'spec.targetRefs[0].kind', message: /targetRef must be one of/ },
    ],
  },
  {
    name: 'deprecated filter name in a match warns',
    yaml: ef(`  configPatches:
  - applyTo: HTTP_FILTER
    match: {listener: {filterChain: {filter: {name: envoy.http_connection_manager, subFilter: {name: envoy.router}}}}}
    patch: {operation: REMOVE}
`),
    warnings: [
      {
        path: 'spec.configPatches[0].match.listener.filterChain.filter.name',
        message: /deprecated filter name/,
      },
      {
        path: 'spec.configPatches[0].match.listener.filterChain.filter.subFilter.name',
        message: /envoy.filters.http.router/,
      },
    ],
  },
  ...(
    [
      ['CLUSTER', 'MERGE', '{connect_timeout: 5}', '.connect_timeout', /must be a duration/],
      ['CLUSTER', 'ADD', '{name: x, lb_policy: FASTEST}', '.lb_policy', /must be one of ROUND_ROBIN/],
      [
        'HTTP_FILTER',
        'INSERT_FIRST',
        '{name: f, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault, delay: {fixed_delay: soon}}}',
        '.typed_config.delay.fixed_delay',
        /must be a duration/,
      ],
      [
        'HTTP_FILTER',
        'INSERT_FIRST',
        '{name: f, typed_config: {name: x}}',
        '.typed_config',
        /an Any needs "@type"/,
      ],
      [
        'HTTP_ROUTE',
        'INSERT_FIRST',
        '{route: {cluster: a}, direct_response: {status: 200}}',
        '.direct_response',
        /both set but belong to one oneof/,
      ],
      [
        'LISTENER',
        'ADD',
        '{name: l, address: {socket_address: {port_value: http}}}',
        '.address.socket_address.port_value',
        /must be a uint32/,
      ],
      ['VIRTUAL_HOST', 'ADD', '{name: v, domains: "*"}', '.domains', /must be a list/],
    ] as const
  ).map(([applyTo, op, value, path, message]) => ({
    name: `${applyTo} ${op} value that is not an Envoy message: ${path}`,
    yaml: ef(
      `  configPatches:\n  - applyTo: ${applyTo}\n    patch:\n      operation: ${op}\n      value: ${value}\n`,
    ),
    errors: [{ path: `spec.configPatches[0].patch.value${path}`, message, line: 11 }],
  })),
  {
    name: 'an unknown field in a patch value warns, as Istio (it drops the field); it does not reject',
    yaml: ef(
      '  configPatches:\n  - applyTo: CLUSTER\n    patch:\n      operation: MERGE\n      value: {circuit_breaker: {}}\n',
    ),
    warnings: [
      {
        path: 'spec.configPatches[0].patch.value.circuit_breaker',
        message: /unknown field "circuit_breaker" in Cluster: Istio drops it/,
        line: 11,
      },
    ],
  },
  {
    name: 'an xDS v2 type in a patch value is refused with a hint, as Istio does (Envoy has no v2 API)',
    yaml: ef(
      '  configPatches:\n  - applyTo: HTTP_FILTER\n    patch:\n      operation: INSERT_FIRST\n      value: {name: f, typed_config: {"@type": type.googleapis.com/envoy.config.filter.http.lua.v2.Lua}}\n',
    ),
    errors: [
      {
        path: 'spec.configPatches[0].patch.value.typed_config["@type"]',
        message: /is an xDS v2 type.*use the v3 API/,
      },
    ],
  },
  {
    name: 'values in proto3 JSON: snake_case and camelCase, durations, wrappers, Struct, enums',
    yaml: ef(`  configPatches:
  - applyTo: CLUSTER
    patch:
      operation: ADD
      value:
        name: extra
        connectTimeout: 0.25s
        lb_policy: LEAST_REQUEST
        per_connection_buffer_limit_bytes: 32768
        metadata: {filter_metadata: {custom: {a: 1, b: [x]}}}
        load_assignment: {cluster_name: extra, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}
`),
    warnings: [unstable],
  },
];

const proxyConfigCases: Case[] = [
  {
    name: 'per-workload concurrency, env and image',
    yaml: pc(`  selector:
    matchLabels: {app: ratings}
  concurrency: 0
  environmentVariables: {ISTIO_META_DNS_CAPTURE: "true"}
  image: {imageType: distroless}
`),
  },
  {
    name: 'namespace-wide ProxyConfig',
    yaml: pc('  concurrency: 2\n'),
  },
  {
    name: 'negative concurrency',
    yaml: pc('  concurrency: -1\n'),
    errors: [{ path: 'spec.concurrency', message: /integer between 0/, line: 6 }],
  },
  {
    name: 'environment variable name invalid',
    yaml: pc('  environmentVariables: {"1BAD": x}\n'),
    errors: [{ path: 'spec.environmentVariables["1BAD"]', message: /invalid environment variable name/ }],
  },
  {
    name: 'ProxyConfig is v1beta1 only',
    yaml: pc('  concurrency: 2\n', 'v1'),
    errors: [{ path: 'apiVersion', message: /v1beta1/ }],
  },
  {
    name: 'selector field is matchLabels, not labels',
    yaml: pc('  selector: {labels: {app: a}}\n'),
    errors: [{ path: 'spec.selector.labels', message: /unknown field "labels"/ }],
  },
];

runTable('EnvoyFilter', filterCases);
runTable('ProxyConfig', proxyConfigCases);
