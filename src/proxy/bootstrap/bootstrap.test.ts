// Bootstrap: the xDS connection's keepalive from the ADS cluster (Envoy's connection_keepalive), node.locality.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { fromEnvoyYaml } from '../../xds/envoy-yaml.js';
import { bootstrapFrom } from './bootstrap.js';

function boot(keepalive: string, node = ''): ReturnType<typeof bootstrapFrom> {
  const yaml = `
node: { id: sidecar~10.0.0.1~vm.default~default.svc.cluster.local${node} }
dynamic_resources:
  ads_config: { api_type: GRPC, grpc_services: [{ envoy_grpc: { cluster_name: xds-grpc } }] }
static_resources:
  clusters:
    - name: xds-grpc
      type: STATIC
      load_assignment:
        cluster_name: xds-grpc
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 15010 } } } }] }]
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: { ${keepalive} }
`;
  return bootstrapFrom(fromEnvoyYaml(parse(yaml)));
}

test('connection_keepalive of the ADS cluster sets the xDS keepalive', () => {
  const b = boot('connection_keepalive: { interval: 1s, timeout: 0.5s }');
  assert.equal(b.adsAddress, '10.0.0.2:15010');
  assert.deepEqual(b.adsKeepalive, { intervalMs: 1000, timeoutMs: 500 });
});

test('node.locality is kept (the proxy sends it to the control plane)', () => {
  assert.deepEqual(boot('', ', locality: { region: r1, zone: z1 }').node.locality, {
    region: 'r1',
    zone: 'z1',
    subZone: '',
  });
  assert.equal(boot('').node.locality, null);
});

test('no connection_keepalive: the default', () => {
  assert.equal(boot('').adsKeepalive, null);
});

test('a keepalive without timeout or interval, or with jitter, is refused by name', () => {
  assert.throws(
    () => boot('connection_keepalive: { interval: 1s }'),
    /connection_keepalive\.timeout is required/,
  );
  assert.throws(
    () => boot('connection_keepalive: { timeout: 1s }'),
    /connection_keepalive\.interval is required/,
  );
  assert.throws(
    () => boot('connection_keepalive: { interval: 1s, timeout: 1s, interval_jitter: { value: 10 } }'),
    /interval_jitter is not supported/,
  );
});
