// VHDS end to end: a real `mizzen server`, raw Delta ADS streams that record every response, and a real
// Mizzen proxy. A sidecar that asks for VHDS gets its route configs as stubs and their virtual hosts one
// resource each; a VirtualService edit then sends the one virtual host it changed, and the proxy compiles
// only that one. A client that does not ask gets its route configs whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServer, waitFor } from '../cli/server-test-util.js';
import { Proxy } from '../proxy/proxy.js';
import {
  adsServiceConstructor,
  type DeltaDiscoveryRequestMessage,
  type DeltaDiscoveryResponseMessage,
} from '../xds/ads-service.js';
import { decodeResource, type CanonicalObject } from '../xds/protos.js';
import { structFromJson } from '../xds/struct.js';
import { TypeUrl, VHDS_CLIENT_FEATURE } from '../xds/type-urls.js';

const svc = (name: string, ip: string): string => `---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: ${name}-0, labels: { app: ${name} } }
spec: { containers: [{ name: ${name}, ports: [{ containerPort: 9080 }] }] }
status: { podIP: ${ip} }
`;

const SERVICES = svc('productpage', '127.1.0.4') + svc('reviews', '127.1.0.2') + svc('ratings', '127.1.0.3');

/** A VirtualService for reviews sending every request to the service `to` (one of the mesh's). */
const vs = (to: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: ${to} } }] }]
`;

const NODE_ID = 'sidecar~127.1.0.4~productpage-0.default~default.svc.cluster.local';
const METADATA = {
  NAMESPACE: 'default',
  INTERCEPTION_MODE: 'NONE',
  MIZZEN_APP_HOST: '127.2.0.4',
  INSTANCE_IPS: '127.1.0.4',
};
const REVIEWS_VH = 'http_proxy/reviews.default.svc.cluster.local:9080';

interface Recorded {
  typeUrl: string;
  names: string[];
  removed: string[];
  resources: CanonicalObject[];
}

/** A raw Delta ADS stream: CDS and LDS wildcard, RDS `http_proxy` (and VHDS for it), ACKing everything. */
class DeltaRecorder {
  readonly responses: Recorded[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<DeltaDiscoveryRequestMessage, DeltaDiscoveryResponseMessage>;

  constructor(server: string, vhds: boolean) {
    this.client = new (adsServiceConstructor())(server, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': -1,
    });
    this.call = (this.client as any).DeltaAggregatedResources();
    this.call.on('error', () => {});
    this.call.on('data', (r: DeltaDiscoveryResponseMessage) => {
      this.responses.push({
        typeUrl: r.typeUrl ?? '',
        names: (r.resources ?? []).map((x) => x.name ?? ''),
        removed: r.removedResources ?? [],
        resources: (r.resources ?? []).flatMap((x) => (x.resource ? [decodeResource(x.resource)] : [])),
      });
      this.call.write({ typeUrl: r.typeUrl, responseNonce: r.nonce });
    });
    this.call.write({
      typeUrl: TypeUrl.CLUSTER,
      node: {
        id: NODE_ID,
        metadata: structFromJson(METADATA),
        ...(vhds ? { clientFeatures: [VHDS_CLIENT_FEATURE] } : {}),
      },
    });
    this.call.write({ typeUrl: TypeUrl.LISTENER });
    this.call.write({ typeUrl: TypeUrl.ROUTE, resourceNamesSubscribe: ['http_proxy'] });
    if (vhds) this.call.write({ typeUrl: TypeUrl.VIRTUAL_HOST, resourceNamesSubscribe: ['http_proxy'] });
  }

  of(typeUrl: string): Recorded[] {
    return this.responses.filter((r) => r.typeUrl === typeUrl);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** The cluster of the first route of the virtual host among `hosts` named `name`. */
function clusterOf(hosts: CanonicalObject[], name: string): string | undefined {
  const vh = hosts.find((h) => h.name === name) as any;
  return vh?.routes?.[0]?.route?.cluster;
}

test('VHDS: route configs as stubs, virtual hosts one resource each; an edit sends the one host it changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-vhds-'));
  writeFileSync(join(dir, 'services.yaml'), SERVICES);
  writeFileSync(join(dir, 'reviews-vs.yaml'), vs('reviews'));
  const server = await startServer(dir);
  const withVhds = new DeltaRecorder(server.xds, true);
  const whole = new DeltaRecorder(server.xds, false);
  try {
    // The cold start of a server on a loaded 2-core machine can take seconds.
    await waitFor('the virtual hosts', () => withVhds.of(TypeUrl.VIRTUAL_HOST).length > 0, 30_000);
    await waitFor('the whole route config', () => whole.of(TypeUrl.ROUTE).length > 0, 30_000);

    const [stub] = withVhds.of(TypeUrl.ROUTE)[0].resources as any[];
    assert.equal(stub.name, 'http_proxy');
    assert.deepEqual(stub.vhds, { configSource: { ads: {}, resourceApiVersion: 'V3' } });
    assert.equal(stub.virtualHosts, undefined, 'a VHDS stub carries no virtual hosts');
    const first = withVhds.of(TypeUrl.VIRTUAL_HOST)[0];
    assert.deepEqual([...first.names].sort(), [
      'http_proxy/allow_any',
      'http_proxy/productpage.default.svc.cluster.local:9080',
      'http_proxy/ratings.default.svc.cluster.local:9080',
      REVIEWS_VH,
    ]);
    assert.equal(clusterOf(first.resources, REVIEWS_VH), 'outbound|9080||reviews.default.svc.cluster.local');

    const [full] = whole.of(TypeUrl.ROUTE)[0].resources as any[];
    assert.equal(full.vhds, undefined, 'a client that did not ask for VHDS gets no stub');
    assert.equal(full.virtualHosts.length, 4);
    assert.equal(whole.of(TypeUrl.VIRTUAL_HOST).length, 0);

    const rdsBefore = withVhds.of(TypeUrl.ROUTE).length;
    const vhdsBefore = withVhds.of(TypeUrl.VIRTUAL_HOST).length;
    writeFileSync(join(dir, 'reviews-vs.yaml'), vs('ratings'));
    await waitFor('the edited host', () => withVhds.of(TypeUrl.VIRTUAL_HOST).length > vhdsBefore, 30_000);
    const edit = withVhds.of(TypeUrl.VIRTUAL_HOST)[vhdsBefore];
    assert.deepEqual(edit.names, [REVIEWS_VH], 'only the virtual host the edit changed is sent');
    assert.deepEqual(edit.removed, []);
    assert.equal(clusterOf(edit.resources, REVIEWS_VH), 'outbound|9080||ratings.default.svc.cluster.local');
    // The client without VHDS got the whole route config again: the comparison that shows what was saved.
    await waitFor('the whole route config again', () => whole.of(TypeUrl.ROUTE).length > 1, 30_000);
    assert.equal(withVhds.of(TypeUrl.ROUTE).length, rdsBefore, 'the unchanged stub was not sent again');

    // A deleted service: its virtual host is removed by name, the others stay as they are.
    writeFileSync(join(dir, 'services.yaml'), svc('productpage', '127.1.0.4') + svc('reviews', '127.1.0.2'));
    writeFileSync(join(dir, 'reviews-vs.yaml'), vs('reviews'));
    await waitFor(
      'ratings removed',
      () => withVhds.of(TypeUrl.VIRTUAL_HOST).some((r) => r.removed.length > 0),
      30_000,
    );
    const removal = withVhds.of(TypeUrl.VIRTUAL_HOST).find((r) => r.removed.length > 0)!;
    assert.deepEqual(removal.removed, ['http_proxy/ratings.default.svc.cluster.local:9080']);
  } finally {
    withVhds.close();
    whole.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('VHDS: the Mizzen proxy merges the virtual hosts into its route table and recompiles only what changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-vhds-proxy-'));
  writeFileSync(join(dir, 'services.yaml'), SERVICES);
  writeFileSync(join(dir, 'reviews-vs.yaml'), vs('reviews'));
  const server = await startServer(dir);
  const proxy = await Proxy.start({
    xdsAddress: server.xds,
    nodeId: NODE_ID,
    metadata: METADATA,
    adminPort: 0,
    logLevel: 'critical',
    drainTimeMs: 500,
  });
  try {
    await waitFor('LIVE', () => proxy.state() === 'LIVE', 30_000);
    const table = (): ReturnType<typeof proxy.config.current.routeTable> =>
      proxy.config.current.routeTable('http_proxy');
    const before = table()!;
    assert.ok(before.config.vhds, 'the route table was built from a VHDS stub');
    const reviews = before.virtualHost('reviews:9080')!;
    const ratings = before.virtualHost('ratings:9080')!;
    assert.equal(reviews.name, REVIEWS_VH);
    assert.equal(before.virtualHost('elsewhere.example.com')!.name, 'http_proxy/allow_any');
    const routeCluster = (t: typeof before): unknown => t.virtualHost('reviews:9080')!.routes[0].cluster;
    assert.equal(routeCluster(before), 'outbound|9080||reviews.default.svc.cluster.local');

    writeFileSync(join(dir, 'reviews-vs.yaml'), vs('ratings'));
    const after = await waitFor(
      'the edited route',
      () => {
        const t = table();
        return t && routeCluster(t) === 'outbound|9080||ratings.default.svc.cluster.local' ? t : null;
      },
      30_000,
    );
    assert.notEqual(after.virtualHost('reviews:9080'), reviews, 'the changed host was compiled again');
    assert.equal(after.virtualHost('ratings:9080'), ratings, 'an unchanged host is the compiled one it had');
    const syncz = await (await fetch(`http://${server.debug}/debug/syncz`)).json();
    const types = (syncz as any[]).find((p) => p.id === NODE_ID).types;
    assert.deepEqual(types[TypeUrl.VIRTUAL_HOST].resourceNames, ['http_proxy']);
    await waitFor('VHDS ACKed', async () => {
      const s = (await (await fetch(`http://${server.debug}/debug/syncz`)).json()) as any[];
      const t = s.find((p) => p.id === NODE_ID).types[TypeUrl.VIRTUAL_HOST];
      return t.sent !== '' && t.sent === t.acked;
    });
  } finally {
    await proxy.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
