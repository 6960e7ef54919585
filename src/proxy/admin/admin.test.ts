// Admin endpoints of a running proxy: formats and names users and istioctl-like tools read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
import {
  admin,
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
  waitFor,
} from '../test-util.js';

describe('admin', () => {
  let b: Backend;
  let proxy: Proxy;
  let port: number;
  let quit = false;

  before(async () => {
    b = await startBackend('b');
    const routes = routeConfig('r', [
      { match: { prefix: '/' }, route: { cluster: 'outbound|9080||reviews.default.svc.cluster.local' } },
    ]);
    proxy = await startProxy(
      [httpListener('0.0.0.0_9080', hcm(routes, { statPrefix: 'outbound_0.0.0.0_9080' }))],
      [staticCluster('outbound|9080||reviews.default.svc.cluster.local', [b.port])],
      { onQuit: () => (quit = true) },
    );
    port = proxy.listenerPort('0.0.0.0_9080');
    await get(port, '/warm');
  });

  after(async () => {
    await proxy.close();
    await b.close();
  });

  it('/ready says LIVE and /server_info carries state and version', async () => {
    const r = await admin(proxy, '/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'LIVE\n');
    const si = JSON.parse((await admin(proxy, '/server_info')).body);
    assert.equal(si.state, 'LIVE');
    assert.match(si.version, /^mizzen\//);
  });

  it('/clusters uses Envoy text format with host lines and health flags', async () => {
    const t = (await admin(proxy, '/clusters')).body;
    const c = 'outbound|9080||reviews.default.svc.cluster.local';
    assert.ok(t.includes(`${c}::default_priority::max_connections::1024\n`));
    assert.ok(t.includes(`${c}::127.0.0.1:${b.port}::health_flags::healthy\n`));
    assert.match(t, new RegExp(`::127\\.0\\.0\\.1:${b.port}::rq_total::[1-9]`));
    assert.match(t, new RegExp(`::127\\.0\\.0\\.1:${b.port}::cx_active::1\\n`));
    const j = JSON.parse((await admin(proxy, '/clusters?format=json')).body);
    assert.equal(j.clusterStatuses[0].hostStatuses[0].address.socketAddress.portValue, b.port);
  });

  it('/config_dump holds canonical resources with @type', async () => {
    const d = JSON.parse((await admin(proxy, '/config_dump')).body);
    const types = d.configs.map((c: any) => c['@type']);
    assert.ok(types.includes('type.googleapis.com/envoy.admin.v3.ClustersConfigDump'));
    const clusters = d.configs.find((c: any) => c['@type'].endsWith('ClustersConfigDump'));
    assert.equal(
      clusters.staticClusters[0].cluster['@type'],
      'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    );
    assert.equal(clusters.staticClusters[0].cluster.connectTimeout.seconds, 1);
    const listeners = d.configs.find((c: any) => c['@type'].endsWith('ListenersConfigDump'));
    assert.equal(listeners.staticListeners[0].listener.name, '0.0.0.0_9080');
    const routes = d.configs.find((c: any) => c['@type'].endsWith('RoutesConfigDump'));
    assert.equal(routes.staticRouteConfigs[0].routeConfig.name, 'r');
    const eds = JSON.parse((await admin(proxy, '/config_dump?include_eds')).body);
    assert.ok(eds.configs.some((c: any) => c['@type'].endsWith('EndpointsConfigDump')));
  });

  it('/listeners shows the bound address', async () => {
    assert.equal((await admin(proxy, '/listeners')).body, `0.0.0.0_9080::127.0.0.1:${port}\n`);
  });

  it('/stats and /stats/prometheus use Envoy names and tags', async () => {
    const s = (await admin(proxy, '/stats')).body;
    const c = 'cluster.outbound|9080||reviews.default.svc.cluster.local';
    for (const n of [
      'upstream_rq_total',
      'upstream_rq_2xx',
      'upstream_rq_200',
      'upstream_rq_pending_overflow',
      'upstream_cx_active',
    ]) {
      assert.match(s, new RegExp(`^${c.replace(/[|.]/g, '\\$&')}\\.${n}: \\d+$`, 'm'));
    }
    assert.match(s, /^http\.outbound_0\.0\.0\.0_9080\.downstream_rq_total: [1-9]/m);
    assert.match(s, /^listener\.127\.0\.0\.1_0\.downstream_cx_total: [1-9]/m);
    const p = (await admin(proxy, '/stats/prometheus')).body;
    assert.match(p, /^# TYPE envoy_cluster_upstream_rq_total counter$/m);
    assert.match(
      p,
      /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="outbound\|9080\|\|reviews\.default\.svc\.cluster\.local"\} [1-9]/m,
    );
    assert.match(
      p,
      /^envoy_cluster_upstream_rq_xx\{envoy_response_code_class="2",envoy_cluster_name="outbound/m,
    );
    assert.match(p, /^envoy_cluster_upstream_cx_active\{envoy_cluster_name="outbound.*"\} 1$/m);
    assert.match(
      p,
      /^envoy_http_downstream_rq_xx\{envoy_response_code_class="2",envoy_http_conn_manager_prefix="outbound_0\.0\.0\.0_9080"\} [1-9]/m,
    );
    assert.match(
      p,
      /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="outbound.*",le="\+Inf"\} [1-9]/m,
    );
    const f = (await admin(proxy, '/stats?filter=upstream_rq_total&format=json')).body;
    assert.ok(JSON.parse(f).stats.every((x: any) => x.name.includes('upstream_rq_total')));
  });

  it('/logging lists and changes levels; mutating endpoints need POST', async () => {
    assert.equal((await admin(proxy, '/logging?level=debug', 'POST')).status, 200);
    assert.match((await admin(proxy, '/logging')).body, /router: debug|main: debug|upstream: debug/);
    await admin(proxy, '/logging?level=warning', 'POST');
    assert.equal((await admin(proxy, '/quitquitquit')).status, 405);
  });

  it('/drain_listeners stops the listener; /quitquitquit shuts the proxy down', async () => {
    assert.equal((await admin(proxy, '/drain_listeners', 'POST')).status, 200);
    await assert.rejects(get(port, '/after-drain'));
    assert.equal((await admin(proxy, '/quitquitquit', 'POST')).status, 200);
    await waitFor('the proxy to quit', () => quit);
  });
});
