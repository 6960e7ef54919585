// Tests the ADS server against the Mizzen ADS client over real gRPC on 127.0.0.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AdsClient } from './ads-client.js';
import { AdsServer } from './ads-server.js';
import type { GenerateFn, ProxyInfo, Resource } from './ads-server.js';
import { adsServiceConstructor } from './ads-service.js';
import type { DiscoveryResponseMessage } from './ads-service.js';
import type { LogLevel } from './logger.js';
import type { CanonicalObject } from './protos.js';
import { decodeResource, resourceName } from './protos.js';
import { edsCluster, loadAssignment, outboundListener, routeConfig, waitFor } from './test-util.js';
import { TypeUrl } from './type-urls.js';

const NODE_ID = 'sidecar~127.1.0.2~productpage-v1-0.default~default.svc.cluster.local';
const REVIEWS = 'outbound|9080||reviews.default.svc.cluster.local';
const RATINGS = 'outbound|9080||ratings.default.svc.cluster.local';

/** The control plane's config: resources by type URL, keyed by name. */
class Config {
  readonly byType = new Map<string, Map<string, Resource>>();
  readonly generateCalls = new Map<string, number>();
  set(typeUrl: string, resource: Resource): void {
    if (!this.byType.has(typeUrl)) this.byType.set(typeUrl, new Map());
    this.byType.get(typeUrl)!.set(resourceName(resource), resource);
  }
  delete(typeUrl: string, name: string): void {
    this.byType.get(typeUrl)?.delete(name);
  }
  readonly generate: GenerateFn = (_proxy, typeUrl, names) => {
    this.generateCalls.set(typeUrl, (this.generateCalls.get(typeUrl) ?? 0) + 1);
    const all = [...(this.byType.get(typeUrl)?.values() ?? [])];
    return names.length === 0 ? all : all.filter((r) => names.includes(resourceName(r)));
  };
}

function bookinfoConfig(): Config {
  const c = new Config();
  c.set(TypeUrl.CLUSTER, edsCluster(REVIEWS));
  c.set(TypeUrl.ENDPOINT, loadAssignment(REVIEWS, [['127.1.0.3', 9080]]));
  c.set(TypeUrl.LISTENER, outboundListener(9080));
  c.set(TypeUrl.ROUTE, routeConfig('9080', ['reviews.default.svc.cluster.local:9080'], REVIEWS));
  return c;
}

/** A stand-in for the proxy: applies updates, subscribes EDS/RDS names, may reject. */
class FakeProxy {
  readonly state = new Map<string, { version: string; resources: CanonicalObject[] }>();
  readonly updates: string[] = [];
  /** The client's log lines (each failed reconnect attempt logs "ads: stream to … down"). */
  readonly logs: string[] = [];
  reject: ((typeUrl: string, resources: CanonicalObject[]) => Error | null) | null = null;
  readonly client: AdsClient;

  constructor(
    port: number,
    metadata: Record<string, unknown> = { NAMESPACE: 'default', LABELS: { app: 'productpage' } },
  ) {
    this.client = new AdsClient({
      server: `127.0.0.1:${port}`,
      node: { id: NODE_ID, metadata },
      initialBackoffMs: 50,
      maxBackoffMs: 400,
      log: (_level, message) => this.logs.push(message),
      onResources: (typeUrl, resources, version) => this.apply(typeUrl, resources, version),
    });
  }

  names(typeUrl: string): string[] {
    return (this.state.get(typeUrl)?.resources ?? []).map(resourceName).sort();
  }

  private apply(typeUrl: string, resources: CanonicalObject[], version: string): Error | void {
    const err = this.reject?.(typeUrl, resources);
    if (err) return err;
    this.state.set(typeUrl, { version, resources });
    this.updates.push(typeUrl);
    if (typeUrl === TypeUrl.CLUSTER) {
      const eds = resources.filter((c) => c.type === 'EDS').map(resourceName);
      this.client.subscribe(TypeUrl.ENDPOINT, eds);
    }
    if (typeUrl === TypeUrl.LISTENER) {
      const routes = resources.flatMap((l: any) =>
        (l.filterChains ?? []).flatMap((fc: any) =>
          fc.filters.map((f: any) => f.typedConfig?.rds?.routeConfigName),
        ),
      );
      this.client.subscribe(
        TypeUrl.ROUTE,
        routes.filter((r: unknown) => typeof r === 'string'),
      );
    }
  }
}

async function startServer(
  config: Config,
  extra: { debounceMs?: number; maxDebounceMs?: number; address?: string } = {},
) {
  const logs: string[] = [];
  const server = new AdsServer({
    generate: config.generate,
    address: extra.address ?? '127.0.0.1:0',
    debounceMs: extra.debounceMs,
    maxDebounceMs: extra.maxDebounceMs,
    log: (level: LogLevel, message: string) => logs.push(`${level}: ${message}`),
  });
  const port = await server.listen();
  return { server, port, logs };
}

async function synced(proxy: FakeProxy, server: AdsServer): Promise<void> {
  await waitFor('all four types ACKed', () => {
    const status = server.syncStatus()[0];
    if (!status) return false;
    const types = [TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.LISTENER, TypeUrl.ROUTE];
    return (
      types.every((t) => status.types[t]?.sent && status.types[t].acked === status.types[t].sent) &&
      proxy.state.size === 4
    );
  });
}

test('initial push delivers CDS, EDS, LDS, RDS and the ACKs show in the sync status', async () => {
  const config = bookinfoConfig();
  const { server, port } = await startServer(config);
  const proxy = new FakeProxy(port);
  try {
    proxy.client.start();
    await synced(proxy, server);
    assert.deepEqual(proxy.names(TypeUrl.CLUSTER), [REVIEWS]);
    assert.deepEqual(proxy.names(TypeUrl.ENDPOINT), [REVIEWS]);
    assert.deepEqual(proxy.names(TypeUrl.LISTENER), ['0.0.0.0_9080']);
    assert.deepEqual(proxy.names(TypeUrl.ROUTE), ['9080']);
    // CDS is answered before EDS can be asked for, and LDS before RDS.
    assert.ok(proxy.updates.indexOf(TypeUrl.CLUSTER) < proxy.updates.indexOf(TypeUrl.ENDPOINT));
    assert.ok(proxy.updates.indexOf(TypeUrl.LISTENER) < proxy.updates.indexOf(TypeUrl.ROUTE));
    const [status] = server.syncStatus();
    assert.equal(status.id, NODE_ID);
    assert.deepEqual(status.metadata, { NAMESPACE: 'default', LABELS: { app: 'productpage' } });
    assert.deepEqual(status.types[TypeUrl.ENDPOINT].resourceNames, [REVIEWS]);
    assert.equal(status.types[TypeUrl.LISTENER].acked, proxy.state.get(TypeUrl.LISTENER)!.version);
    assert.equal(status.types[TypeUrl.LISTENER].lastNack, undefined);
    const m = server.metrics();
    assert.equal(m.pilot_xds, 1);
    assert.deepEqual(m.pilot_xds_pushes, { cds: 1, eds: 1, lds: 1, rds: 1 });
    assert.equal(m.pilot_total_xds_rejects, 0);
    assert.equal(server.proxies()[0].node.userAgentName, 'mizzen');
  } finally {
    proxy.client.close();
    await server.close();
  }
});

test('a NACK is recorded with its detail, the client keeps its last good state, and serving goes on', async () => {
  const config = bookinfoConfig();
  const { server, port, logs } = await startServer(config);
  const proxy = new FakeProxy(port);
  try {
    proxy.client.start();
    await synced(proxy, server);
    const goodVersion = proxy.state.get(TypeUrl.LISTENER)!.version;
    proxy.reject = (typeUrl, resources) =>
      typeUrl === TypeUrl.LISTENER && resources.some((l) => l.name === '0.0.0.0_9999')
        ? new Error('listener 0.0.0.0_9999: filterChains[0].filters[0]: unsupported filter')
        : null;
    config.set(TypeUrl.LISTENER, outboundListener(9999));
    await server.push();
    const nack = await waitFor(
      'NACK in sync status',
      () => server.syncStatus()[0].types[TypeUrl.LISTENER].lastNack,
    );
    assert.match(
      nack.message,
      /listener 0\.0\.0\.0_9999: filterChains\[0\]\.filters\[0\]: unsupported filter/,
    );
    const lds = server.syncStatus()[0].types[TypeUrl.LISTENER];
    assert.equal(nack.version, lds.sent);
    assert.equal(lds.acked, goodVersion, 'the ACKed version stays the last good one');
    assert.equal(server.metrics().pilot_total_xds_rejects, 1);
    assert.equal(server.metrics().pilot_xds_rejects.lds, 1);
    assert.ok(
      logs.some((l) =>
        l.startsWith(`warn: proxy ${NODE_ID} rejected lds version ${nack.version}: listener 0.0.0.0_9999`),
      ),
    );
    assert.deepEqual(proxy.names(TypeUrl.LISTENER), ['0.0.0.0_9080'], 'client kept its last good listeners');
    assert.deepEqual(proxy.client.lastGood(TypeUrl.LISTENER)?.version, goodVersion);

    // The server keeps serving: fix the listener and change a cluster; both arrive and are ACKed.
    config.delete(TypeUrl.LISTENER, '0.0.0.0_9999');
    config.set(TypeUrl.LISTENER, outboundListener(9081));
    config.set(TypeUrl.CLUSTER, edsCluster(RATINGS));
    await server.push();
    await waitFor('fixed listener', () => proxy.names(TypeUrl.LISTENER).includes('0.0.0.0_9081'));
    await waitFor('new cluster', () => proxy.names(TypeUrl.CLUSTER).includes(RATINGS));
    await waitFor('LDS ACKed again', () => {
      const s = server.syncStatus()[0].types[TypeUrl.LISTENER];
      return s.acked === s.sent && s.acked !== goodVersion;
    });
  } finally {
    proxy.client.close();
    await server.close();
  }
});

test('a push sends only the types whose content changed, and nothing when nothing changed', async () => {
  const config = bookinfoConfig();
  const { server, port } = await startServer(config);
  const proxy = new FakeProxy(port);
  try {
    proxy.client.start();
    await synced(proxy, server);
    const before = server.metrics().pilot_xds_pushes;
    await server.push();
    await server.push();
    assert.deepEqual(server.metrics().pilot_xds_pushes, before, 'unchanged content was re-sent');

    config.set(
      TypeUrl.ENDPOINT,
      loadAssignment(REVIEWS, [
        ['127.1.0.3', 9080],
        ['127.1.0.4', 9080],
      ]),
    );
    await server.push();
    await waitFor('second endpoint', () => {
      const cla: any = proxy.state.get(TypeUrl.ENDPOINT)?.resources[0];
      return cla?.endpoints[0].lbEndpoints.length === 2;
    });
    const after = server.metrics().pilot_xds_pushes;
    assert.deepEqual(after, { ...before, eds: before.eds + 1 });

    // A push filtered to other proxies does not reach this one.
    config.set(TypeUrl.CLUSTER, edsCluster(RATINGS));
    const sent = server.metrics().pilot_xds_pushes;
    await server.push((p: ProxyInfo) => p.id.startsWith('router~'));
    assert.deepEqual(server.metrics().pilot_xds_pushes, sent, 'a push filtered to routers sent something');
    assert.deepEqual(proxy.names(TypeUrl.CLUSTER), [REVIEWS]);
    await server.push((p: ProxyInfo) => p.metadata.NAMESPACE === 'default');
    await waitFor('ratings cluster', () => proxy.names(TypeUrl.CLUSTER).includes(RATINGS));
    assert.ok(server.metrics().pilot_proxy_convergence_time.count >= 2);
    assert.ok(server.takeConvergenceSamples().every((s) => s >= 0 && s < 5));
  } finally {
    proxy.client.close();
    await server.close();
  }
});

test('requestPush coalesces a burst into one push, and the max delay bounds a long burst', async () => {
  const config = bookinfoConfig();
  const { server, port } = await startServer(config, { debounceMs: 100, maxDebounceMs: 400 });
  const proxy = new FakeProxy(port);
  try {
    proxy.client.start();
    await synced(proxy, server);
    const cdsCalls = () => config.generateCalls.get(TypeUrl.CLUSTER) ?? 0;
    const start = cdsCalls();
    for (let i = 0; i < 30; i++) {
      config.set(TypeUrl.CLUSTER, edsCluster(`outbound|${9000 + i}||burst.default.svc.cluster.local`));
      server.requestPush();
    }
    // The burst is requested in one turn of the event loop: a second push would have come first, with fewer clusters.
    await waitFor('burst pushed', () => proxy.names(TypeUrl.CLUSTER).length === 31);
    assert.equal(cdsCalls() - start, 1, 'the burst produced more than one push');

    // Requests every 30 ms for 1.2 s never leave a 100 ms quiet period, yet pushes happen (max delay 400 ms).
    // The requests come from a 30 ms interval timer (the input); the test waits, with a deadline, until
    // 40 were sent and a push went out meanwhile.
    const during = cdsCalls();
    const burstStart = Date.now();
    let sent = 0;
    const ticker = setInterval(() => {
      config.set(TypeUrl.CLUSTER, edsCluster(`outbound|${8000 + sent}||long.default.svc.cluster.local`));
      server.requestPush();
      sent++;
    }, 30);
    let pushedDuringBurst = 0;
    try {
      await waitFor('40 requests and a push during the long burst', () => {
        pushedDuringBurst = cdsCalls() - during;
        return sent >= 40 && pushedDuringBurst >= 1;
      });
    } finally {
      clearInterval(ticker);
    }
    const elapsed = Date.now() - burstStart;
    assert.ok(pushedDuringBurst >= 1, 'no push during a long burst');
    // Never more than one push per quiet period, however much a loaded machine stretches the timer.
    assert.ok(pushedDuringBurst <= Math.ceil(elapsed / 100), `${pushedDuringBurst} pushes in ${elapsed} ms`);
  } finally {
    proxy.client.close();
    await server.close();
  }
});

test('the client keeps its last good state while the server is down and resyncs after a restart', async () => {
  const config = bookinfoConfig();
  const first = await startServer(config);
  const port = first.port;
  let server = first.server;
  const proxy = new FakeProxy(port);
  const events: string[] = [];
  proxy.client.on('connected', () => events.push('connected'));
  proxy.client.on('disconnected', () => events.push('disconnected'));
  try {
    proxy.client.start();
    await synced(proxy, server);
    await server.close();
    await waitFor('disconnected event', () => events.includes('disconnected'));
    assert.equal(proxy.client.connected, false);
    await waitFor(
      'two failed reconnect attempts',
      () => proxy.logs.filter((l) => l.startsWith('ads: stream to')).length >= 3,
    );
    assert.deepEqual(proxy.names(TypeUrl.CLUSTER), [REVIEWS], 'state was dropped while the server is down');
    assert.deepEqual(proxy.client.lastGood(TypeUrl.ROUTE)?.resources.map(resourceName), ['9080']);

    config.set(TypeUrl.CLUSTER, edsCluster(RATINGS));
    config.set(TypeUrl.ENDPOINT, loadAssignment(RATINGS, [['127.1.0.5', 9080]]));
    ({ server } = await startServer(config, { address: `127.0.0.1:${port}` }));
    await waitFor('resync after restart', () => proxy.names(TypeUrl.ENDPOINT).includes(RATINGS), 8000);
    await synced(proxy, server);
    assert.deepEqual(events.slice(0, 3), ['connected', 'disconnected', 'connected']);
    assert.equal(server.syncStatus()[0].id, NODE_ID);
  } finally {
    proxy.client.close();
    await server.close();
  }
});

test('raw protocol: stale nonces are ignored, name changes on an ACK are answered, a delta stream without a node is refused', async () => {
  const config = bookinfoConfig();
  config.set(TypeUrl.ENDPOINT, loadAssignment(RATINGS, [['127.1.0.5', 9080]]));
  const { server, port } = await startServer(config);
  const Ctor = adsServiceConstructor();
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const call = client.StreamAggregatedResources();
  const responses: DiscoveryResponseMessage[] = [];
  call.on('data', (r: DiscoveryResponseMessage) => responses.push(r));
  call.on('error', () => {});
  try {
    call.write({
      node: { id: 'router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local' },
      typeUrl: TypeUrl.ENDPOINT,
      resourceNames: [REVIEWS],
    });
    await waitFor('first EDS response', () => responses.length === 1);
    const first = responses[0];
    assert.deepEqual(
      first.resources!.map((r) => decodeResource(r).clusterName),
      [REVIEWS],
    );
    call.write({
      typeUrl: TypeUrl.ENDPOINT,
      resourceNames: [REVIEWS, RATINGS],
      responseNonce: 'not-a-nonce-we-sent',
      versionInfo: '',
    });
    await waitFor('the stale nonce counted', () => server.metrics().pilot_xds_expired_nonce.eds === 1);
    assert.equal(responses.length, 1, 'a stale nonce was answered');
    call.write({
      typeUrl: TypeUrl.ENDPOINT,
      resourceNames: [REVIEWS, RATINGS],
      responseNonce: first.nonce,
      versionInfo: first.versionInfo,
    });
    await waitFor('response to the new names', () => responses.length === 2);
    assert.deepEqual(responses[1].resources!.map((r) => decodeResource(r).clusterName).sort(), [
      RATINGS,
      REVIEWS,
    ]);
    assert.notEqual(responses[1].nonce, first.nonce);
    assert.equal(server.syncStatus()[0].types[TypeUrl.ENDPOINT].acked, first.versionInfo);

    const delta = client.DeltaAggregatedResources();
    const code = await new Promise<number>((resolve) => {
      delta.on('error', (e: grpc.ServiceError) => resolve(e.code));
      delta.on('data', () => {});
      delta.write({ typeUrl: TypeUrl.CLUSTER });
    });
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
  } finally {
    call.cancel();
    client.close();
    await server.close();
  }
});
