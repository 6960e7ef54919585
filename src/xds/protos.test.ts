// Tests canonical-form encode/decode of real Envoy resources and the Envoy-YAML converter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromEnvoyYaml, parseDuration } from './envoy-yaml.js';
import { readFileSync } from 'node:fs';
import {
  decodeResource,
  encodeResource,
  ENVOY_DESCRIPTOR_URL,
  envoyRoot,
  InvalidResourceError,
  lookupType,
  parseEnvoyProtos,
  resourceName,
  toCanonical,
} from './protos.js';
import { structFromJson, structToJson } from './struct.js';
import { TypeUrl } from './type-urls.js';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

const listener = {
  name: '0.0.0.0_9080',
  address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
  trafficDirection: 'OUTBOUND',
  filterChains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typedConfig: {
            '@type': HCM,
            statPrefix: 'outbound_0.0.0.0_9080',
            rds: { configSource: { ads: {}, resourceApiVersion: 'V3' }, routeConfigName: '9080' },
            httpFilters: [
              {
                name: 'envoy.filters.http.fault',
                typedConfig: {
                  '@type': FAULT,
                  delay: {
                    fixedDelay: { nanos: 500000000 },
                    percentage: { numerator: 50, denominator: 'HUNDRED' },
                  },
                },
              },
              { name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } },
            ],
            streamIdleTimeout: { seconds: 3600 },
          },
        },
      ],
    },
  ],
  metadata: { filterMetadata: { istio: structFromJson({ config: '/apis/x', list: [1, 'a'] }) } },
};

const cluster = {
  name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
  type: 'EDS',
  edsClusterConfig: {
    edsConfig: { ads: {}, resourceApiVersion: 'V3' },
    serviceName: 'outbound|9080|v1|reviews.default.svc.cluster.local',
  },
  connectTimeout: { seconds: 10 },
  lbPolicy: 'LEAST_REQUEST',
  circuitBreakers: {
    thresholds: [{ maxConnections: { value: 4294967295 }, maxRetries: { value: 4294967295 } }],
  },
  outlierDetection: {
    consecutive_5xx: { value: 5 },
    interval: { seconds: 10 },
    baseEjectionTime: { seconds: 30 },
  },
};

test('a Listener with an HCM typed_config round-trips through Any bytes unchanged', () => {
  const any = encodeResource(TypeUrl.LISTENER, listener);
  assert.equal(any.type_url, TypeUrl.LISTENER);
  assert.ok(any.value.length > 100, 'encoded bytes look too short');
  const back = decodeResource(any);
  assert.deepStrictEqual(back, listener);
  const hcm = (back.filterChains as any)[0].filters[0].typedConfig;
  assert.equal(hcm['@type'], HCM);
  assert.equal(hcm.httpFilters[0].typedConfig.delay.percentage.denominator, 'HUNDRED');
  assert.deepStrictEqual(structToJson((back.metadata as any).filterMetadata.istio), {
    config: '/apis/x',
    list: [1, 'a'],
  });
  assert.equal(resourceName(back), '0.0.0.0_9080');
});

test('a Cluster round-trips, also through the camelCase typeUrl form', () => {
  const any = encodeResource(TypeUrl.CLUSTER, cluster);
  assert.deepStrictEqual(decodeResource({ typeUrl: any.type_url, value: any.value }), cluster);
  assert.deepStrictEqual(
    decodeResource(encodeResource(TypeUrl.CLUSTER, { '@type': TypeUrl.CLUSTER, ...cluster })),
    cluster,
  );
});

test('an Any of a type the protos do not define survives as type_url + bytes', () => {
  const stats = {
    type_url: 'type.googleapis.com/istio.stats.PluginConfig',
    value: Buffer.from([10, 3, 120, 121, 122]),
  };
  const l = { name: 'x', filterChains: [{ filters: [{ name: 'istio.stats', typedConfig: stats }] }] };
  assert.deepStrictEqual(decodeResource(encodeResource(TypeUrl.LISTENER, l)), l);
});

test('toCanonical turns enum numbers and int64 strings into canonical names and numbers', () => {
  const c = toCanonical('envoy.config.cluster.v3.Cluster', {
    name: 'c',
    lbPolicy: 1,
    connectTimeout: { seconds: '3' },
  });
  assert.deepStrictEqual(c, { name: 'c', lbPolicy: 'LEAST_REQUEST', connectTimeout: { seconds: 3 } });
  assert.equal(lookupType('envoy.config.route.v3.RouteConfiguration').name, 'RouteConfiguration');
});

test('the other filter and TLS types the mesh needs are loaded', () => {
  for (const name of [
    'envoy.extensions.filters.http.cors.v3.Cors',
    'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    'envoy.extensions.transport_sockets.tls.v3.Secret',
    'envoy.extensions.filters.http.rbac.v3.RBAC',
    'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
    'envoy.config.endpoint.v3.ClusterLoadAssignment',
    'envoy.service.discovery.v3.DiscoveryResponse',
    'google.protobuf.Struct',
  ]) {
    assert.ok(lookupType(name), name);
  }
});

test('invalid input gives an error that names the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...cluster, lbPolicy: 'FASTEST' }, /^Cluster\.lbPolicy: expected one of ROUND_ROBIN/],
    [
      { ...cluster, connect_timeout: { seconds: 1 } },
      /Cluster\.connect_timeout: unknown field .*did you mean connectTimeout/,
    ],
    [
      { ...cluster, circuitBreakers: { thresholds: [{ maxConnections: 5 }] } },
      /Cluster\.circuitBreakers\.thresholds\[0\]\.maxConnections: expected an object \(UInt32Value\), got number 5/,
    ],
    [
      { ...cluster, connectTimeout: { seconds: 1.5 } },
      /Cluster\.connectTimeout\.seconds: expected an integer/,
    ],
    [{ ...cluster, outlierDetection: { consecutive5xx: { value: 1 } } }, /did you mean consecutive_5xx\?/],
    [{ ...cluster, name: 7 }, /Cluster\.name: expected a string, got number 7/],
    [
      { ...cluster, clusterType: { name: 'envoy.clusters.aggregate' } },
      /fields type and clusterType are both set but belong to oneof clusterDiscoveryType/,
    ],
  ];
  for (const [input, re] of cases) {
    assert.throws(
      () => encodeResource(TypeUrl.CLUSTER, input as Record<string, unknown>),
      (err: unknown) => err instanceof InvalidResourceError && re.test(err.message),
      String(re),
    );
  }
  const badAny = structuredClone(listener) as any;
  badAny.filterChains[0].filters[0].typedConfig.httpFilters[1].typedConfig = {
    '@type': 'type.googleapis.com/no.Such',
  };
  assert.throws(
    () => encodeResource(TypeUrl.LISTENER, badAny),
    /Listener\.filterChains\[0\]\.filters\[0\]\.typedConfig\.httpFilters\[1\]\.typedConfig\['@type'\]: unknown type/,
  );
  assert.throws(
    () => encodeResource(TypeUrl.ROUTE, { '@type': TypeUrl.CLUSTER }),
    /expected .*RouteConfiguration/,
  );
  assert.throws(
    () => decodeResource({ type_url: TypeUrl.CLUSTER, value: Uint8Array.from([0xff, 0xff]) }),
    /cannot decode/,
  );
});

test('fromEnvoyYaml converts an Envoy-style bootstrap snippet into canonical form', () => {
  const bootstrap = {
    node: {
      id: 'router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local',
      metadata: { CLUSTER_ID: 'Kubernetes' },
    },
    static_resources: {
      clusters: [
        {
          name: 'backend',
          connect_timeout: '0.25s',
          type: 'STRICT_DNS',
          lb_policy: 'ROUND_ROBIN',
          circuit_breakers: { thresholds: [{ max_connections: 100, max_requests: '200' }] },
          metadata: { filter_metadata: { istio: { some_key: 'v', nested_obj: { a_b: [1, true] } } } },
          load_assignment: {
            cluster_name: 'backend',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } },
                ],
              },
            ],
          },
        },
      ],
      listeners: [
        {
          name: 'listener_0',
          address: { socket_address: { address: '0.0.0.0', port_value: 10000 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': HCM,
                    stat_prefix: 'ingress_http',
                    route_config: {
                      name: 'local_route',
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [
                            {
                              match: { prefix: '/' },
                              route: { cluster: 'backend', timeout: '1.5s' },
                              request_headers_to_add: [{ header: { key: 'x-my_header', value: 'a_b' } }],
                              typed_per_filter_config: {
                                my_fault_filter: {
                                  '@type': FAULT,
                                  abort: {
                                    http_status: 503,
                                    percentage: { numerator: 10, denominator: 'HUNDRED' },
                                  },
                                },
                              },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
  const out = fromEnvoyYaml(bootstrap) as any;
  const c = out.staticResources.clusters[0];
  assert.deepStrictEqual(c.connectTimeout, { nanos: 250000000 });
  assert.deepStrictEqual(c.circuitBreakers.thresholds[0], {
    maxConnections: { value: 100 },
    maxRequests: { value: 200 },
  });
  // Struct contents keep their keys as written.
  assert.deepStrictEqual(structToJson(c.metadata.filterMetadata.istio), {
    some_key: 'v',
    nested_obj: { a_b: [1, true] },
  });
  assert.deepStrictEqual(structToJson(out.node.metadata), { CLUSTER_ID: 'Kubernetes' });
  assert.equal(c.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.portValue, 8080);
  const hcm = out.staticResources.listeners[0].filterChains[0].filters[0].typedConfig;
  assert.equal(hcm['@type'], HCM);
  assert.equal(hcm.statPrefix, 'ingress_http');
  const route = hcm.routeConfig.virtualHosts[0].routes[0];
  assert.deepStrictEqual(route.route.timeout, { seconds: 1, nanos: 500000000 });
  assert.deepStrictEqual(route.requestHeadersToAdd[0].header, { key: 'x-my_header', value: 'a_b' });
  // map<> keys stay as written; the Any inside is converted.
  assert.deepStrictEqual(route.typedPerFilterConfig, {
    my_fault_filter: {
      '@type': FAULT,
      abort: { httpStatus: 503, percentage: { numerator: 10, denominator: 'HUNDRED' } },
    },
  });
  // The result is already canonical: a protobuf round trip leaves it unchanged.
  assert.deepStrictEqual(toCanonical('envoy.config.bootstrap.v3.Bootstrap', out), out);
});

test('fromEnvoyYaml reports bad input with the path as written', () => {
  assert.throws(
    () => fromEnvoyYaml({ static_resources: { clusters: [{ name: 'x', connect_timeout: '250ms' }] } }),
    /Bootstrap\.static_resources\.clusters\[0\]\.connect_timeout: expected a duration like "1.5s"/,
  );
  assert.throws(
    () => fromEnvoyYaml({ static_resources: { clusters: [{ name: 'x', conect_timeout: '1s' }] } }),
    /Bootstrap\.static_resources\.clusters\[0\]\.conect_timeout: unknown field/,
  );
  assert.throws(
    () =>
      fromEnvoyYaml(
        { filter_chains: [{ filters: [{ name: 'f', typed_config: { stat_prefix: 'x' } }] }] },
        'envoy.config.listener.v3.Listener',
      ),
    /Listener\.filter_chains\[0\]\.filters\[0\]\.typed_config: a typed_config\/Any needs '@type'/,
  );
  const secret = fromEnvoyYaml(
    { name: 'default', tls_certificate: { certificate_chain: { inline_bytes: 'LS0tLQ==' } } },
    'envoy.extensions.transport_sockets.tls.v3.Secret',
  ) as any;
  assert.deepStrictEqual(secret.tlsCertificate.certificateChain.inlineBytes, Buffer.from('----'));
  assert.deepStrictEqual(parseDuration('-1.5s'), { seconds: -1, nanos: -500000000 });
  assert.deepStrictEqual(parseDuration('10s'), { seconds: 10 });
});

test('fromEnvoyYaml accepts the stdout access logger Envoy bootstraps use', () => {
  const out = fromEnvoyYaml({
    static_resources: {
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '127.0.0.1', port_value: 10000 } },
          access_log: [
            {
              name: 'envoy.access_loggers.stdout',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
              },
            },
          ],
        },
      ],
    },
  }) as { staticResources: { listeners: { accessLog: { typedConfig: Record<string, unknown> }[] }[] } };
  assert.equal(
    out.staticResources.listeners[0].accessLog[0].typedConfig['@type'],
    'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  );
});

test('the build-time descriptor holds the same types as parsing the .proto files, and is what the planes load', () => {
  // Written by `npm run build`; loading it parses no .proto file.
  const descriptor = JSON.parse(readFileSync(ENVOY_DESCRIPTOR_URL, 'utf8')) as { files: string[] };
  assert.ok(descriptor.files.includes('envoy/config/route/v3/route.proto'));
  const loaded = envoyRoot();
  const parsed = parseEnvoyProtos();
  assert.notEqual(loaded, parsed);
  // Enum value options (deprecation annotations) are the one thing protobufjs' JSON form drops; nothing reads them.
  const withoutValueOptions = (json: unknown): string =>
    JSON.stringify(json, (key, value: unknown) => (key === 'valuesOptions' ? undefined : value));
  assert.equal(withoutValueOptions(loaded.toJSON()), withoutValueOptions(parsed.toJSON()));
  // And the same bytes for a resource touching maps, oneofs, Any, Duration, wrappers and enums.
  const cluster = {
    name: 'outbound|9080||reviews.default.svc.cluster.local',
    type: 'EDS',
    connectTimeout: { seconds: 1, nanos: 500000000 },
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
    circuitBreakers: { thresholds: [{ maxConnections: { value: 7 }, maxRetries: { value: 3 } }] },
    metadata: {
      filterMetadata: {
        istio: {
          fields: {
            services: {
              listValue: { values: [{ structValue: { fields: { host: { stringValue: 'reviews' } } } }] },
            },
          },
        },
      },
    },
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicitHttpConfig: { http2ProtocolOptions: { maxConcurrentStreams: { value: 100 } } },
      },
    },
  };
  const type = 'envoy.config.cluster.v3.Cluster';
  const viaParsed = parsed.lookupType(type);
  const bytesParsed = viaParsed.encode(viaParsed.fromObject(cluster)).finish();
  assert.deepEqual(encodeResource(TypeUrl.CLUSTER, cluster).value, bytesParsed);
});
