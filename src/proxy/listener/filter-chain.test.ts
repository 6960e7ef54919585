// A filter chain's config: FilterChain fields this proxy does not do are refused naming the field (a NACK
// over xDS); transport_socket_connect_timeout sets the TLS handshake deadline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { envoy_config_listener_v3_FilterChain as FilterChainMessage } from '../../xds/envoy-types.js';
import type { HcmContext } from '../http/hcm/hcm-config.js';
import { StatsStore } from '../stats/stats-store.js';
import { FilterChain } from './filter-chain.js';

const ctx: HcmContext = {
  store: new StatsStore(),
  source: { current: { version: 0, routeTable: () => undefined, cluster: () => undefined } },
  defaultAccessLogs: null,
};

const TCP: FilterChainMessage = {
  filters: [
    {
      name: 'envoy.filters.network.tcp_proxy',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
        statPrefix: 'tcp',
        cluster: 'backend',
      },
    },
  ],
};

const build = (fc: FilterChainMessage): FilterChain => new FilterChain(fc, ctx, null, 'filterChains[0]');

test('use_proxy_proto: true is refused (the PROXY header would reach the application as data); false is accepted', () => {
  assert.throws(
    () => build({ ...TCP, useProxyProto: { value: true } }),
    /^Error: filterChains\[0\]\.useProxyProto: PROXY protocol is not supported/,
  );
  assert.doesNotThrow(() => build({ ...TCP, useProxyProto: {} }));
});

test('a network filter whose config comes from ECDS (config_discovery) is refused, not built empty', () => {
  const fc: FilterChainMessage = {
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        configDiscovery: { configSource: { ads: {} }, typeUrls: ['type.googleapis.com/x'] },
      },
    ],
  };
  assert.throws(
    () => build(fc),
    /filters\[0\] \(envoy\.filters\.network\.http_connection_manager\): configDiscovery/,
  );
});

test('transport_socket_connect_timeout sets the handshake deadline; absent or zero keeps the listener default', () => {
  assert.equal(
    build({ ...TCP, transportSocketConnectTimeout: { seconds: 2, nanos: 500_000_000 } }).handshakeTimeoutMs,
    2500,
  );
  assert.equal(build({ ...TCP, transportSocketConnectTimeout: {} }).handshakeTimeoutMs, null);
  assert.equal(build(TCP).handshakeTimeoutMs, null);
});
