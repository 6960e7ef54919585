// PushContext: indexes whose kinds did not change are reused; which proxies a change concerns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.js';
import { buildSnapshot, diffResources } from '../config/snapshot.js';
import type { ConfigChange } from '../config/store.js';
import { buildPushContext } from './push-context.js';
import { affectedProxies, endpointOnlyChange } from './discovery.js';
import { Generator } from './generator.js';
import type { ProxyInfo } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef } from './test-util.js';

const BASE = `apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews } }] }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec: { host: reviews }
`;

const POD = `---
apiVersion: v1
kind: Pod
metadata: { name: reviews-0, labels: { app: reviews } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.2 }
`;

/** A connected proxy as the ADS server describes it to push filters. */
function info(id: string, metadata: Record<string, unknown> = {}): ProxyInfo {
  return { id, metadata, node: {}, connectionId: id, connectedAt: 0, peer: '', vhds: false };
}

function change(before: string, after: string): ConfigChange {
  const a = buildSnapshot(1, loadText(before, 'a.yaml').resources);
  const b = buildSnapshot(2, loadText(after, 'a.yaml').resources);
  const events = diffResources(a.resources, b.resources);
  const kinds = new Set(events.map((e) => (e.type === 'deleted' ? e.previous.kind : e.resource.kind)));
  return { snapshot: b, previous: a, events, kinds };
}

test('an endpoint-only change rebuilds the registry and reuses the routing indexes', () => {
  const c = change(BASE, BASE + POD);
  const before = buildPushContext(c.previous);
  const after = buildPushContext(c.snapshot, null, before, c.kinds);
  assert.notEqual(after.registry, before.registry);
  assert.equal(after.virtualServices, before.virtualServices);
  assert.equal(after.destinationRules, before.destinationRules);
  const svc = after.registry.service('reviews.default.svc.cluster.local')!;
  assert.equal(after.registry.endpoints(svc, 9080).length, 1);
  assert.equal(
    affectedProxies(c),
    undefined,
    'without the push contexts, endpoint changes go to every proxy',
  );
});

test('a routing change reuses the registry', () => {
  const c = change(BASE, BASE.replace('hosts: [reviews], http', 'hosts: [reviews, reviews.default], http'));
  const before = buildPushContext(c.previous);
  const after = buildPushContext(c.snapshot, null, before, c.kinds);
  assert.equal(after.registry, before.registry);
  assert.notEqual(after.virtualServices, before.virtualServices);
  assert.equal(after.virtualServices[0].hosts.length, 2);
});

test('Gateway-only changes push to gateways; ignored kinds push to nobody', () => {
  const gw = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw }
spec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }] }
`;
  const filter = affectedProxies(change(BASE, BASE + gw));
  assert.ok(filter);
  assert.equal(filter(info('router~127.0.0.1~gw-0.istio-system~istio-system.svc.cluster.local')), true);
  assert.equal(filter(info('sidecar~127.1.0.2~a-0.default~default.svc.cluster.local')), false);
  const sa = `---
apiVersion: v1
kind: ServiceAccount
metadata: { name: bookinfo-reviews }
`;
  assert.equal(affectedProxies(change(BASE, BASE + sa)), null);
});

test('a VirtualService-only change regenerates listeners, routes and VHDS virtual hosts of sidecars, everything of gateways and gRPC clients', () => {
  const c = change(BASE, BASE.replace('hosts: [reviews], http', 'hosts: [reviews, reviews.default], http'));
  assert.deepEqual([...c.kinds], ['VirtualService']);
  const select = affectedProxies(c);
  assert.ok(select);
  const sidecar = select(info('sidecar~127.1.0.2~a-0.default~default.svc.cluster.local'));
  assert.ok(sidecar instanceof Set);
  // Without the push contexts the edited VirtualServices are not known: listeners too.
  assert.deepEqual([...sidecar].sort(), [TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.VIRTUAL_HOST].sort());
  assert.equal(select(info('router~127.0.0.1~gw-0.istio-system~istio-system.svc.cluster.local')), 'all');
  assert.equal(
    select(info('sidecar~127.1.0.3~g-0.default~default.svc.cluster.local', { GENERATOR: 'grpc' })),
    'all',
  );
  const withPod = change(
    BASE,
    BASE.replace('hosts: [reviews], http', 'hosts: [reviews, reviews.default], http') + POD,
  );
  assert.equal(affectedProxies(withPod), undefined, 'a change that also touches a Pod pushes everything');
});

test('a VirtualService change reaches only the sidecars that see it, before or after the change', () => {
  const mesh = (vsExport: string) => `apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: b }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: b }
spec: { hosts: [reviews], exportTo: [${vsExport}], http: [{ route: [{ destination: { host: reviews } }] }] }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: a }
spec: { egress: [{ hosts: ["./*"] }] }
`;
  const scoped = proxyRef({ ip: '127.1.0.2', name: 'a-0', namespace: 'a', labels: { app: 'a' } });
  const sameNs = proxyRef({ ip: '127.1.0.3', name: 'b-0', namespace: 'b', labels: { app: 'b' } });
  const other = proxyRef({ ip: '127.1.0.4', name: 'c-0', namespace: 'c', labels: { app: 'c' } });
  const selectFor = (before: string, after: string) => {
    const c = change(before, after);
    const b = buildPushContext(c.previous);
    const a = buildPushContext(c.snapshot, null, b, c.kinds);
    const g = generatorFor(a);
    const select = affectedProxies(c, { before: b, after: a, scope: (p) => g.scope(p) });
    assert.ok(select);
    return (p: ReturnType<typeof proxyRef>) => select(info(p.id, p.metadata));
  };
  // Exported everywhere, edited: namespace a's Sidecar egress ("./*") hides namespace b's VirtualService.
  let select = selectFor(
    mesh('"*"'),
    mesh('"*"').replace('hosts: [reviews], exportTo', 'hosts: [reviews, r2], exportTo'),
  );
  assert.equal(select(scoped), null);
  assert.ok(select(sameNs) instanceof Set);
  assert.ok(select(other) instanceof Set);
  // Narrowed from everywhere to its own namespace: c saw it before, so c gets the push that removes it.
  select = selectFor(mesh('"*"'), mesh('"."'));
  assert.ok(select(other) instanceof Set);
  assert.ok(select(sameNs) instanceof Set);
  // Exported only to its own namespace before and after: c never sees it.
  select = selectFor(
    mesh('"."'),
    mesh('"."').replace('hosts: [reviews], exportTo', 'hosts: [reviews, r2], exportTo'),
  );
  assert.equal(select(other), null);
  assert.ok(select(sameNs) instanceof Set);
});

test('an endpoint-only change pushes EDS alone, everything to the changed Pod own proxy, and reuses unchanged resources', () => {
  const ratings = `---
apiVersion: v1
kind: Service
metadata: { name: ratings }
spec: { selector: { app: ratings }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: ratings-0, labels: { app: ratings } }
spec: { containers: [{ name: r }] }
status: { podIP: 127.1.0.9 }
`;
  const c = change(BASE + POD + ratings, BASE + POD + ratings.replace('127.1.0.9', '127.1.0.8'));
  const before = buildPushContext(c.previous);
  const after = buildPushContext(c.snapshot, null, before, c.kinds);
  const ctx = { before, after, scope: () => assert.fail('no scope needed') };
  const select = affectedProxies(c, ctx);
  assert.ok(select);
  const reviewsProxy = info('sidecar~127.1.0.2~reviews-0.default~default.svc.cluster.local');
  assert.deepEqual(select(reviewsProxy), new Set([TypeUrl.ENDPOINT]));
  assert.equal(select(info('sidecar~127.1.0.8~ratings-0.default~default.svc.cluster.local')), 'all');
  assert.equal(select(info('sidecar~127.1.0.9~x-0.default~default.svc.cluster.local')), 'all');

  // The generator of the new push starts from the old one's shared resources: the same route config,
  // clusters and reviews endpoints (objects), and a new ratings load assignment.
  let current = before;
  const g = new Generator(() => current);
  const proxy = proxyRef({ ip: '127.1.0.2', name: 'reviews-0', labels: { app: 'reviews' } });
  const RV = 'outbound|9080||reviews.default.svc.cluster.local';
  const RT = 'outbound|9080||ratings.default.svc.cluster.local';
  const old = {
    cds: g.generate(proxy, TypeUrl.CLUSTER, []),
    rds: g.generate(proxy, TypeUrl.ROUTE, ['9080']),
    eds: g.generate(proxy, TypeUrl.ENDPOINT, [RV, RT]),
  };
  const change2 = endpointOnlyChange(c, ctx);
  assert.deepEqual([...change2!.hosts], ['ratings.default.svc.cluster.local']);
  g.inherit(after, before, change2!);
  current = after;
  const rds = g.generate(proxy, TypeUrl.ROUTE, ['9080']);
  const eds = g.generate(proxy, TypeUrl.ENDPOINT, [RV, RT]);
  const cds = g.generate(proxy, TypeUrl.CLUSTER, []);
  assert.equal(rds[0], old.rds[0]);
  assert.equal(eds[0], old.eds[0], 'reviews endpoints did not change: same object');
  assert.notEqual(eds[1], old.eds[1]);
  assert.match(JSON.stringify(eds[1]), /127\.1\.0\.8/);
  const outbound = (l: typeof cds) => l.filter((x) => String(x.name).startsWith('outbound|'));
  assert.deepEqual(outbound(cds), outbound(old.cds));
  assert.equal(outbound(cds)[0], outbound(old.cds)[0]);
});

test('an edit of HTTP-only VirtualServices skips sidecar listeners unless one shares a host with tcp or tls rules', () => {
  const TCP = `---
apiVersion: v1
kind: Service
metadata: { name: db }
spec: { selector: { app: db }, ports: [{ name: tcp, port: 5432 }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db }
spec: { hosts: [db], tcp: [{ route: [{ destination: { host: reviews, port: { number: 9080 } } }] }] }
`;
  const sidecar = info('sidecar~127.1.0.2~a-0.default~default.svc.cluster.local');
  const typesFor = (before: string, after: string): string[] => {
    const a = buildPushContext(buildSnapshot(1, loadText(before, 'a.yaml').resources));
    const b = buildPushContext(buildSnapshot(2, loadText(after, 'a.yaml').resources));
    const c = change(before, after);
    const scope = generatorFor(b);
    const select = affectedProxies(c, { before: a, after: b, scope: (p) => scope.scope(p) });
    const t = select?.(sidecar);
    assert.ok(t instanceof Set, String(t));
    return [...t].sort();
  };
  // What the rule stands on: the sidecar's listeners as generated before and after.
  const listeners = (yaml: string): string => {
    const push = buildPushContext(buildSnapshot(1, loadText(yaml, 'a.yaml').resources));
    const ref = proxyRef({ ip: '127.1.0.2', name: 'a-0' });
    return JSON.stringify(generatorFor(push).generate(ref, TypeUrl.LISTENER, []));
  };
  const routes = [TypeUrl.ROUTE, TypeUrl.VIRTUAL_HOST].sort();
  const all = [TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.VIRTUAL_HOST].sort();
  // An HTTP-only edit: routes only, even with a tcp VirtualService elsewhere in the mesh.
  const edited = BASE.replace(
    'route: [{ destination: { host: reviews } }]',
    'timeout: 2s, route: [{ destination: { host: reviews } }]',
  );
  assert.notEqual(edited, BASE);
  assert.deepEqual(typesFor(BASE + TCP, edited + TCP), routes);
  assert.equal(listeners(edited + TCP), listeners(BASE + TCP));
  // A tcp VirtualService edited: listeners too.
  assert.deepEqual(
    typesFor(BASE + TCP, BASE + TCP.replace('host: reviews, port: { number: 9080 }', 'host: db')),
    all,
  );
  // An HTTP-only VirtualService that takes a host a tcp rule applies to (it would shadow the rule): listeners too.
  const shadow = edited.replace('hosts: [reviews]', 'hosts: [reviews, db]');
  assert.deepEqual(typesFor(BASE + TCP, shadow + TCP), all);
  assert.notEqual(
    listeners(shadow + TCP),
    listeners(BASE + TCP),
    'the shadowed tcp rule changed the listeners',
  );
});

test('a Service deployed or changed: sidecars keep their listeners unless their inbound ports, HTTP ports, tcp listeners or egress listeners may change', () => {
  /** An app as `kubectl apply` brings it: Service, DestinationRule, VirtualService and a Pod. */
  const app = (name: string, port: number, protocol = 'http', ip = '127.1.0.20', app = name): string => `---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: { app: ${app} }, ports: [{ name: ${protocol}, port: ${port} }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec: { host: ${name}, trafficPolicy: { connectionPool: { tcp: { idleTimeout: 30s } } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec: { hosts: [${name}], ${protocol === 'tcp' ? 'tcp' : 'http'}: [{ route: [{ destination: { host: ${name} } }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: ${name}-0, labels: { app: ${name} } }
spec: { containers: [{ name: c }] }
status: { podIP: ${ip} }
`;
  const proxies = {
    /** Fronts reviews-0 (REDIRECT). */
    reviews: proxyRef({ ip: '127.1.0.2', name: 'reviews-0', labels: { app: 'reviews' } }),
    /** A sidecar no service selects (REDIRECT). */
    other: proxyRef({ ip: '127.1.0.5', name: 'x-0' }),
    /** The same in local mode (INTERCEPTION_MODE NONE: an HTTP proxy listener, no per-port ones). */
    local: proxyRef({ ip: '127.1.0.6', name: 'y-0', metadata: { INTERCEPTION_MODE: 'NONE' } }),
  };
  const gateway = info('router~127.0.0.1~gw-0.istio-system~istio-system.svc.cluster.local');
  const NO_LDS = [
    TypeUrl.CLUSTER,
    TypeUrl.ENDPOINT,
    TypeUrl.ROUTE,
    TypeUrl.VIRTUAL_HOST,
    TypeUrl.SECRET,
  ].sort();
  /** Types per proxy for the change, and whether each proxy's generated listeners stayed the same. */
  const outcome = (before: string, after: string) => {
    const a = buildPushContext(buildSnapshot(1, loadText(before, 'a.yaml').resources));
    const b = buildPushContext(buildSnapshot(2, loadText(after, 'a.yaml').resources));
    const gb = generatorFor(b);
    const select = affectedProxies(change(before, after), { before: a, after: b, scope: (p) => gb.scope(p) });
    assert.ok(select, 'something to push');
    const out: Record<string, { types: string; sameListeners: boolean }> = {};
    for (const [k, ref] of Object.entries(proxies)) {
      const t = select(info(ref.id, ref.metadata));
      const types = t === 'all' ? 'all' : t instanceof Set ? [...t].sort().join(',') : String(t);
      const l = (push: typeof a) => JSON.stringify(generatorFor(push).generate(ref, TypeUrl.LISTENER, []));
      out[k] = { types, sameListeners: l(a) === l(b) };
      // The rule's premise: whenever listeners are left out, they did not change.
      if (types !== 'all') assert.ok(out[k].sameListeners, `${k}: listeners skipped but they changed`);
    }
    assert.equal(select(gateway), 'all');
    return out;
  };
  const noLds = NO_LDS.join(',');

  // A new HTTP service on a port others already use: nobody's listeners change.
  const same = outcome(BASE + POD, BASE + POD + app('ratings', 9080));
  assert.deepEqual(same.other, { types: noLds, sameListeners: true });
  assert.deepEqual(same.local, { types: noLds, sameListeners: true });
  assert.deepEqual(same.reviews, { types: noLds, sameListeners: true });

  // A new HTTP port: the REDIRECT sidecars get its outbound listener; the local-mode one has none.
  const port = outcome(BASE + POD, BASE + POD + app('ratings', 9090));
  assert.deepEqual(port.other, { types: 'all', sameListeners: false });
  assert.deepEqual(port.local, { types: noLds, sameListeners: true });

  // A TCP service (its listener, and a DestinationRule that sets its tcp_proxy's idle timeout): everything.
  const tcp = outcome(BASE + POD, BASE + POD + app('db', 5432, 'tcp'));
  assert.equal(tcp.other.types, 'all');
  assert.equal(tcp.other.sameListeners, false);
  assert.equal(tcp.local.types, 'all');

  // A service that selects reviews-0 on a new port: its inbound listener changes; the others keep theirs.
  const selects = outcome(
    BASE + POD,
    BASE + POD + app('reviews-admin', 9080, 'http', '127.1.0.21', 'reviews'),
  );
  assert.equal(selects.reviews.types, 'all');
  assert.equal(selects.other.types, noLds);
  // On a port reviews-0 did not serve: its inbound listeners do change.
  const newPort = outcome(
    BASE + POD,
    BASE + POD + app('reviews-admin', 9443, 'http', '127.1.0.21', 'reviews'),
  );
  assert.deepEqual(newPort.reviews, { types: 'all', sameListeners: false });

  // A DestinationRule edit: HTTP-only mesh, no listeners; with a TCP service it may set, listeners too.
  const drEdit = (yaml: string) =>
    yaml.replace(
      'spec: { host: reviews }',
      'spec: { host: reviews, trafficPolicy: { loadBalancer: { simple: RANDOM } } }',
    );
  assert.notEqual(drEdit(BASE), BASE);
  assert.equal(outcome(BASE + POD, drEdit(BASE) + POD).other.types, noLds);
  const withDb = BASE + POD + app('db', 5432, 'tcp');
  const dbDr = withDb.replace('idleTimeout: 30s', 'idleTimeout: 60s');
  assert.notEqual(dbDr, withDb);
  const dr = outcome(withDb, dbDr);
  assert.equal(dr.other.types, 'all');
  assert.equal(dr.other.sameListeners, false, 'the tcp_proxy idle timeout moved');

  // Anything else in the change (here a Gateway) pushes everything.
  const gw = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw }
spec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ['*'] }] }
`;
  assert.equal(
    affectedProxies(change(BASE, BASE + app('ratings', 9080) + gw), {
      before: buildPushContext(buildSnapshot(1, loadText(BASE, 'a.yaml').resources)),
      after: buildPushContext(
        buildSnapshot(2, loadText(BASE + app('ratings', 9080) + gw, 'a.yaml').resources),
      ),
      scope: () => assert.fail('not asked'),
    }),
    undefined,
  );
});
