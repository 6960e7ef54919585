// The proxy against Mizzen's real ADS server: CDS/EDS/LDS/RDS applied and ACKed, a bad route NACKed
// with resource and field named, and the last good config kept when the control plane goes away.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AdsServer } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import { Proxy } from './proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startStateAdsServer,
  stat,
  waitFor,
  type Backend,
} from './test-util.js';

describe('proxy with an ADS server', () => {
  let v1: Backend;
  let v2: Backend;
  let server: AdsServer;
  let proxy: Proxy;
  const state: Record<string, any[]> = {};
  const cluster = 'outbound|9080||reviews.default.svc.cluster.local';

  const setRoute = (extra: Record<string, unknown>): void => {
    state[TypeUrl.ROUTE] = [
      routeConfig('9080', [{ name: 'default', match: { prefix: '/' }, route: { cluster, ...extra } }]),
    ];
  };

  before(async () => {
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
    state[TypeUrl.CLUSTER] = [
      {
        name: cluster,
        type: 'EDS',
        edsClusterConfig: { edsConfig: { ads: {} }, serviceName: cluster },
        connectTimeout: { seconds: 1 },
      },
    ];
    state[TypeUrl.ENDPOINT] = [
      {
        clusterName: cluster,
        endpoints: [
          {
            lbEndpoints: [v1.port, v2.port].map((p) => ({
              endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } },
              healthStatus: 'HEALTHY',
            })),
          },
        ],
      },
    ];
    state[TypeUrl.LISTENER] = [httpListener('0.0.0.0_9080', hcm('9080'))];
    setRoute({});
    let port: number;
    ({ server, port } = await startStateAdsServer(state));
    proxy = await Proxy.start({
      xdsAddress: `127.0.0.1:${port}`,
      nodeId: 'sidecar~127.0.0.1~productpage-v1-0.default~default.svc.cluster.local',
      metadata: { NAMESPACE: 'default' },
      adminPort: 0,
      logLevel: 'critical',
      drainTimeMs: 1000,
    });
    await waitFor('LIVE', () => proxy.state() === 'LIVE');
  });

  after(async () => {
    await proxy.close();
    await server.close();
    await v1.close();
    await v2.close();
  });

  it('routes over ADS-delivered listener, route, cluster and endpoints, and ACKs them', async () => {
    const port = proxy.listenerPort('0.0.0.0_9080');
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) names.add(String((await get(port, '/r')).headers['x-backend']));
    assert.deepEqual([...names].sort(), ['v1', 'v2']);
    const st = await waitFor('ACKs', () => {
      const s = server.syncStatus()[0];
      return s && s.types[TypeUrl.ROUTE]?.acked && s.types[TypeUrl.ENDPOINT]?.acked ? s : null;
    });
    assert.equal(st.id, 'sidecar~127.0.0.1~productpage-v1-0.default~default.svc.cluster.local');
    assert.deepEqual(st.types[TypeUrl.ENDPOINT].resourceNames, [cluster]);
    assert.deepEqual(st.types[TypeUrl.ROUTE].resourceNames, ['9080']);
  });

  it('EDS updates change the endpoints', async () => {
    state[TypeUrl.ENDPOINT][0].endpoints[0].lbEndpoints[1].healthStatus = 'UNHEALTHY';
    await server.push();
    const port = proxy.listenerPort('0.0.0.0_9080');
    await waitFor('v2 unhealthy', () => proxy.clusters.get(cluster)!.hostSet.healthyCount === 1);
    for (let i = 0; i < 10; i++) assert.equal((await get(port, '/r')).headers['x-backend'], 'v1');
  });

  it('NACKs a bad route naming resource and field, and keeps the last good one', async () => {
    setRoute({ regexRewrite: { pattern: { regex: '(' }, substitution: 'x' } });
    await server.push();
    const nack = await waitFor('NACK', () => server.syncStatus()[0]?.types[TypeUrl.ROUTE]?.lastNack);
    assert.match(
      nack.message,
      /route configuration 9080: virtualHosts\[0\]\.routes\[0\]\(default\)\.route\.regexRewrite\.pattern\.regex/,
    );
    assert.equal((await get(proxy.listenerPort('0.0.0.0_9080'), '/still')).status, 200);
  });

  it('keeps serving the last good config when the control plane goes away', async () => {
    assert.equal(await stat(proxy, 'control_plane.connected_state'), 1);
    await server.close();
    await waitFor(
      'the proxy to see the stream down',
      async () => (await stat(proxy, 'control_plane.connected_state')) === 0,
    );
    const r = await get(proxy.listenerPort('0.0.0.0_9080'), '/after');
    assert.equal(r.status, 200);
    assert.equal(proxy.state(), 'LIVE');
  });
});
