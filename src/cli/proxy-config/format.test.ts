// proxy-config tables from synthetic config dumps and /clusters JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  abbreviateDomains,
  clusterRows,
  endpointRows,
  formatClusters,
  istioConfigRef,
  listenerRows,
  parseClusterName,
  routeMatch,
  routeRows,
  secretRows,
} from './format.js';
import { TestPki } from '../../proxy/tls/test-pki.js';
import { structFromJson } from '../../xds/struct.js';

const A = 'type.googleapis.com/envoy.admin.v3.';
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

const dump = {
  configs: [
    {
      '@type': `${A}ClustersConfigDump`,
      staticClusters: [{ cluster: { name: 'prometheus_stats', type: 'STATIC' } }],
      dynamicActiveClusters: [
        { cluster: { name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS' } },
        {
          cluster: {
            name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
            type: 'EDS',
            metadata: {
              filterMetadata: {
                istio: {
                  config: '/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews',
                },
              },
            },
          },
        },
        { cluster: { name: 'inbound|9080||', type: 'STATIC' } },
        { cluster: { name: 'BlackHoleCluster', type: 'STATIC' } },
      ],
    },
    {
      '@type': `${A}ListenersConfigDump`,
      dynamicListeners: [
        {
          name: '0.0.0.0_9080',
          activeState: {
            listener: {
              name: '0.0.0.0_9080',
              address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
              filterChains: [
                {
                  filters: [
                    {
                      name: 'envoy.filters.network.http_connection_manager',
                      typedConfig: {
                        '@type': HCM,
                        rds: { routeConfigName: '9080', configSource: { ads: {} } },
                      },
                    },
                  ],
                },
              ],
            },
          },
        },
        {
          name: '0.0.0.0_443',
          activeState: {
            listener: {
              address: { socketAddress: { address: '0.0.0.0', portValue: 443 } },
              filterChains: [
                {
                  filterChainMatch: { serverNames: ['a.example.com'], transportProtocol: 'tls' },
                  filters: [
                    {
                      name: 'envoy.filters.network.tcp_proxy',
                      typedConfig: { '@type': TCP, cluster: 'outbound|443||a.example.com' },
                    },
                  ],
                },
              ],
            },
          },
        },
      ],
    },
    {
      '@type': `${A}RoutesConfigDump`,
      dynamicRouteConfigs: [
        {
          routeConfig: {
            name: '9080',
            virtualHosts: [
              {
                name: 'reviews.default.svc.cluster.local:9080',
                domains: [
                  'reviews.default.svc.cluster.local',
                  'reviews.default.svc.cluster.local:9080',
                  'reviews',
                  'reviews:9080',
                  'reviews.default',
                ],
                routes: [
                  {
                    match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
                    metadata: {
                      filterMetadata: {
                        istio: {
                          config:
                            '/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/reviews',
                        },
                      },
                    },
                  },
                  { match: { path: '/exact' } },
                ],
              },
            ],
          },
        },
      ],
    },
  ],
};

test('cluster names parse like istioctl (outbound with subset, inbound, non-Istio)', () => {
  assert.deepEqual(parseClusterName('outbound|9080|v1|reviews.default.svc.cluster.local'), {
    direction: 'outbound',
    port: '9080',
    subset: 'v1',
    fqdn: 'reviews.default.svc.cluster.local',
  });
  assert.deepEqual(parseClusterName('inbound|9080||'), {
    direction: 'inbound',
    port: '9080',
    subset: '-',
    fqdn: '-',
  });
  assert.equal(parseClusterName('BlackHoleCluster').fqdn, 'BlackHoleCluster');
});

test('clusters table: one sorted row per cluster with type and destination rule', () => {
  const rows = clusterRows(dump);
  assert.equal(rows.length, 5);
  assert.deepEqual(
    rows.find((r) => r[2] === 'v1'),
    ['reviews.default.svc.cluster.local', '9080', 'v1', 'outbound', 'EDS', 'reviews.default'],
  );
  assert.deepEqual(
    rows.find((r) => r[0] === 'reviews.default.svc.cluster.local' && r[2] === '-'),
    ['reviews.default.svc.cluster.local', '9080', '-', 'outbound', 'EDS', ''],
  );
  assert.ok(rows.some((r) => r[0] === 'prometheus_stats' && r[4] === 'STATIC'));
  const text = formatClusters(dump);
  assert.match(text.split('\n')[0], /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE$/);
});

test('listeners table: a row per filter chain with match and destination', () => {
  assert.deepEqual(listenerRows(dump), [
    ['0.0.0.0', '9080', 'ALL', 'Route: 9080'],
    ['0.0.0.0', '443', 'SNI: a.example.com; Transport: tls', 'Cluster: outbound|443||a.example.com'],
  ]);
});

test('routes table: domains abbreviated, matches short, virtual service from metadata', () => {
  assert.equal(abbreviateDomains(['a', 'a:80']), 'a');
  assert.equal(abbreviateDomains(['ccc', 'a', 'bb', 'd:1']), 'a, d + 2 more...');
  assert.equal(routeMatch({ prefix: '/' }), '/*');
  assert.equal(routeMatch({ prefix: '/api' }), '/api*');
  assert.equal(routeMatch({ path: '/x' }), '/x');
  assert.equal(routeMatch(undefined), '/*');
  assert.deepEqual(routeRows(dump), [
    [
      '9080',
      'reviews.default.svc.cluster.local:9080',
      'reviews, reviews.default + 1 more...',
      '/* (end-user=jason)',
      'reviews.default',
    ],
    ['9080', 'reviews.default.svc.cluster.local:9080', 'reviews, reviews.default + 1 more...', '/exact', '-'],
  ]);
});

test('routes table: a virtual host that came by VHDS shows its name without the route config prefix', () => {
  const vhds = {
    configs: [
      {
        '@type': `${A}RoutesConfigDump`,
        dynamicRouteConfigs: [
          {
            routeConfig: {
              name: 'http_proxy',
              vhds: { configSource: { ads: {} } },
              virtualHosts: [
                {
                  name: 'http_proxy/ratings.default.svc.cluster.local:9080',
                  domains: ['ratings'],
                  routes: [{}],
                },
                { name: 'http_proxy/allow_any', domains: ['*'], routes: [{}] },
              ],
            },
          },
          // Without vhds the name is the virtual host's own, slash or not.
          { routeConfig: { name: 'x', virtualHosts: [{ name: 'x/y', domains: ['y'], routes: [{}] }] } },
        ],
      },
    ],
  };
  assert.deepEqual(
    routeRows(vhds).map((r) => [r[0], r[1]]),
    [
      ['http_proxy', 'ratings.default.svc.cluster.local:9080'],
      ['http_proxy', 'allow_any'],
      ['x', 'x/y'],
    ],
  );
});

test('endpoints table from /clusters JSON: health and outlier state', () => {
  const rows = endpointRows({
    clusterStatuses: [
      {
        name: 'outbound|9080||reviews.default.svc.cluster.local',
        hostStatuses: [
          {
            address: { socketAddress: { address: '127.1.0.3', portValue: 9080 } },
            healthStatus: { edsHealthStatus: 'HEALTHY' },
          },
          {
            address: { socketAddress: { address: '127.1.0.2', portValue: 9080 } },
            healthStatus: { edsHealthStatus: 'HEALTHY', failedOutlierCheck: true },
          },
        ],
      },
    ],
  });
  assert.deepEqual(rows, [
    ['127.1.0.2:9080', 'HEALTHY', 'FAILED', 'outbound|9080||reviews.default.svc.cluster.local'],
    ['127.1.0.3:9080', 'HEALTHY', 'OK', 'outbound|9080||reviews.default.svc.cluster.local'],
  ]);
});

test('secret table: certificate chain and CA parsed with X509Certificate', () => {
  const pki = new TestPki();
  try {
    const leaf = pki.issue('leaf', 'gw', ['gw.example.com']);
    const rows = secretRows({
      configs: [
        {
          '@type': `${A}SecretsConfigDump`,
          dynamicActiveSecrets: [
            {
              name: 'kubernetes://gw-cert',
              secret: {
                name: 'kubernetes://gw-cert',
                tlsCertificate: {
                  certificateChain: { inlineBytes: Buffer.from(leaf.cert).toString('base64') },
                  privateKey: { inlineString: '[redacted]' },
                },
              },
            },
            { name: 'ca', secret: { validationContext: { trustedCa: { inlineString: pki.ca.cert } } } },
          ],
        },
      ],
    });
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0].slice(0, 4), ['kubernetes://gw-cert', 'Cert Chain', 'ACTIVE', 'true']);
    assert.match(rows[0][4], /^[0-9a-f]+$/);
    assert.ok(Date.parse(rows[0][5]) > Date.now() && Date.parse(rows[0][6]) <= Date.now());
    assert.deepEqual(rows[1].slice(0, 4), ['ca', 'CA', 'ACTIVE', 'true']);
    // Far in the future the certificate is no longer valid.
    assert.equal(
      secretRows(
        {
          configs: [
            {
              '@type': `${A}SecretsConfigDump`,
              staticSecrets: [
                { name: 'ca', secret: { validationContext: { trustedCa: { inlineString: pki.ca.cert } } } },
              ],
            },
          ],
        },
        Date.parse('2999-01-01'),
      )[0][3],
      'false',
    );
  } finally {
    pki.cleanup();
  }
});

test('the VIRTUAL SERVICE / DESTINATION RULE columns read Istio metadata as the dump carries it (a Struct)', () => {
  const config = '/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews';
  assert.equal(istioConfigRef({ filterMetadata: { istio: structFromJson({ config }) } }), 'reviews.default');
  assert.equal(istioConfigRef({ filterMetadata: { istio: { config } } }), 'reviews.default');
  assert.equal(istioConfigRef({ filterMetadata: { istio: structFromJson({ services: [] }) } }), undefined);
});
