// Parses every example manifest and checks kinds, cross-references and the files its commands run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES } from './harness.js';

/** Every manifest under examples/ (examples/proxy/ belongs to the proxy's own tests) → its kinds, sorted. */
const EXPECTED: Record<string, string[]> = {
  'bookinfo/bookinfo.yaml': [
    ...Array<string>(6).fill('Deployment'),
    ...Array<string>(4).fill('Service'),
    ...Array<string>(4).fill('ServiceAccount'),
  ],
  'bookinfo/bookinfo-gateway.yaml': ['Gateway', 'VirtualService'],
  'bookinfo/networking/destination-rule-all.yaml': Array<string>(4).fill('DestinationRule'),
  'bookinfo/networking/virtual-service-all-v1.yaml': Array<string>(4).fill('VirtualService'),
  'bookinfo/networking/virtual-service-ratings-delay-2s.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-ratings-test-abort.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-ratings-test-delay.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-50-v3.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-80-20.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-90-10.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-test-v2.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-timeout.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-v2-v3.yaml': ['VirtualService'],
  'bookinfo/networking/virtual-service-reviews-v3.yaml': ['VirtualService'],
  'httpbin/httpbin.yaml': ['Deployment', 'Service', 'ServiceAccount'],
  'httpbin/httpbin-gateway.yaml': ['Gateway', 'VirtualService'],
  'httpbin/networking/destination-rule-httpbin-circuit-breaker.yaml': ['DestinationRule'],
  'httpbin/networking/destination-rule-httpbin-subsets.yaml': ['DestinationRule'],
  'httpbin/networking/httpbin-v2.yaml': ['Deployment'],
  'httpbin/networking/virtual-service-httpbin-mirror.yaml': ['VirtualService'],
  'httpbin/networking/virtual-service-httpbin-timeout.yaml': ['VirtualService'],
  'httpbin/networking/virtual-service-httpbin-v1.yaml': ['VirtualService'],
  'mtls-migration/mtls-migration.yaml': [
    ...Array<string>(5).fill('Deployment'),
    ...Array<string>(5).fill('Service'),
    ...Array<string>(5).fill('ServiceAccount'),
  ],
  'sleep/sleep.yaml': ['Deployment', 'Service', 'ServiceAccount'],
  'tcp-echo/tcp-echo.yaml': ['Deployment', 'Deployment', 'Service', 'ServiceAccount'],
  'tcp-echo/networking/tcp-echo-20-v2.yaml': ['VirtualService'],
  'tcp-echo/networking/tcp-echo-all-v1.yaml': ['DestinationRule', 'Gateway', 'VirtualService'],
};

const API_VERSIONS: Record<string, string> = {
  Service: 'v1',
  ServiceAccount: 'v1',
  Deployment: 'apps/v1',
  Gateway: 'networking.istio.io/v1',
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
};

interface Doc {
  file: string;
  kind: string;
  name: string;
  body: any;
}

function manifestFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (full !== path.join(EXAMPLES, 'proxy')) manifestFiles(full, out);
    } else if (/\.ya?ml$/.test(entry)) {
      out.push(path.relative(EXAMPLES, full).split(path.sep).join('/'));
    }
  }
  return out;
}

function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path.join(EXAMPLES, file), 'utf8'));
  return docs.map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    const body = d.toJS();
    return { file, kind: body?.kind, name: body?.metadata?.name, body };
  });
}

const files = manifestFiles(EXAMPLES).sort();
const all = files.flatMap(load);
/** Docs of one example (its top folder, networking/ included). */
const exampleOf = (file: string) => file.split('/')[0];
const inExample = (file: string, kind: string) =>
  all.filter((d) => d.kind === kind && exampleOf(d.file) === exampleOf(file));

test('the manifests are exactly the expected files, each with the expected kinds', () => {
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
  for (const file of files) {
    const kinds = all.filter((d) => d.file === file).map((d) => d.kind);
    assert.deepEqual(kinds.sort(), [...EXPECTED[file]].sort(), file);
  }
});

/** Examples whose task needs several namespaces (Istio's mTLS migration uses foo, bar and legacy). */
const MULTI_NAMESPACE = new Set(['mtls-migration']);

test('every resource has its apiVersion, a name, and no namespace but default', () => {
  for (const d of all) {
    assert.equal(d.body.apiVersion, API_VERSIONS[d.kind], `${d.file} ${d.kind}`);
    assert.match(d.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${d.file} ${d.kind}`);
    if (!MULTI_NAMESPACE.has(exampleOf(d.file)))
      assert.ok([undefined, 'default'].includes(d.body.metadata.namespace), `${d.file} ${d.name}`);
  }
});

test('Deployments: labels, selectors, service accounts and node commands that exist', () => {
  for (const d of all.filter((x) => x.kind === 'Deployment')) {
    const where = `${d.file} ${d.name}`;
    const labels = d.body.spec.template.metadata.labels;
    assert.ok(labels.app && labels.version, `${where}: app and version labels`);
    assert.deepEqual(d.body.metadata.labels, { app: labels.app, version: labels.version }, where);
    for (const [k, v] of Object.entries(d.body.spec.selector.matchLabels)) assert.equal(labels[k], v, where);
    assert.ok(d.body.spec.replicas >= 1, where);
    const sa = d.body.spec.template.spec.serviceAccountName;
    assert.ok(
      inExample(d.file, 'ServiceAccount').some((s) => s.name === sa),
      `${where}: ServiceAccount ${sa}`,
    );
    for (const c of d.body.spec.template.spec.containers) {
      assert.ok(c.image, where);
      assert.equal(c.command[0], 'node', where);
      const script = path.join(EXAMPLES, path.dirname(d.file), c.command[1]);
      assert.ok(existsSync(script), `${where}: ${c.command[1]} relative to the manifest's folder`);
    }
  }
});

test('Services select Deployments and target their container ports; ports are named', () => {
  for (const s of all.filter((x) => x.kind === 'Service')) {
    const where = `${s.file} ${s.name}`;
    const selected = inExample(s.file, 'Deployment').filter((d) =>
      Object.entries(s.body.spec.selector).every(([k, v]) => d.body.spec.template.metadata.labels[k] === v),
    );
    assert.ok(selected.length > 0, `${where}: selects no Deployment`);
    for (const port of s.body.spec.ports) {
      assert.match(port.name, /^(http|tcp)/, where);
      const target = port.targetPort ?? port.port;
      for (const d of selected) {
        const containerPorts = d.body.spec.template.spec.containers.flatMap((c: any) =>
          (c.ports ?? []).map((p: any) => p.containerPort),
        );
        if (containerPorts.length > 0)
          assert.ok(containerPorts.includes(target), `${where} → ${d.name}:${target}`);
      }
    }
  }
});

function destinations(vs: Doc): any[] {
  const rules = [...(vs.body.spec.http ?? []), ...(vs.body.spec.tcp ?? [])];
  return rules.flatMap((r: any) => [
    ...(r.route ?? []).map((x: any) => x.destination),
    ...(r.mirror ? [r.mirror] : []),
  ]);
}

test('VirtualService destinations name Services, subsets with Deployments behind them, and gateways', () => {
  for (const vs of all.filter((x) => x.kind === 'VirtualService')) {
    const where = `${vs.file} ${vs.name}`;
    for (const g of vs.body.spec.gateways ?? []) {
      assert.ok(
        inExample(vs.file, 'Gateway').some((gw) => gw.name === g),
        `${where}: gateway ${g}`,
      );
    }
    for (const dest of destinations(vs)) {
      assert.ok(
        inExample(vs.file, 'Service').some((s) => s.name === dest.host),
        `${where}: host ${dest.host}`,
      );
      if (dest.subset === undefined) continue;
      const subset = inExample(vs.file, 'DestinationRule')
        .filter((dr) => dr.body.spec.host === dest.host)
        .flatMap((dr) => dr.body.spec.subsets ?? [])
        .find((ss: any) => ss.name === dest.subset);
      assert.ok(subset, `${where}: subset ${dest.host}/${dest.subset}`);
      const backed = inExample(vs.file, 'Deployment').some((d) => {
        const labels = d.body.spec.template.metadata.labels;
        return labels.app === dest.host && Object.entries(subset.labels).every(([k, v]) => labels[k] === v);
      });
      assert.ok(backed, `${where}: no Deployment for ${dest.host}/${dest.subset}`);
    }
  }
});

const doc = (file: string, kind: string, name: string) =>
  all.find((d) => d.file === file && d.kind === kind && d.name === name)?.body;

test('bookinfo: Services on 9080, bookinfo-* accounts, reviews versions set SERVICE_VERSION', () => {
  const file = 'bookinfo/bookinfo.yaml';
  for (const name of ['details', 'ratings', 'reviews', 'productpage']) {
    assert.deepEqual(doc(file, 'Service', name).spec.ports, [{ port: 9080, name: 'http' }]);
    assert.ok(doc(file, 'ServiceAccount', `bookinfo-${name}`));
  }
  for (const v of ['v1', 'v2', 'v3']) {
    const env = doc(file, 'Deployment', `reviews-${v}`).spec.template.spec.containers[0].env;
    assert.deepEqual(env, [{ name: 'SERVICE_VERSION', value: v }]);
  }
  const gateway = doc('bookinfo/bookinfo-gateway.yaml', 'Gateway', 'bookinfo-gateway');
  assert.deepEqual(gateway.spec.selector, { istio: 'ingressgateway' });
  assert.equal(gateway.spec.servers[0].port.number, 80);
  const uris = doc('bookinfo/bookinfo-gateway.yaml', 'VirtualService', 'bookinfo').spec.http[0].match.map(
    (m: any) => m.uri,
  );
  assert.deepEqual(uris, [
    { exact: '/productpage' },
    { prefix: '/static' },
    { exact: '/login' },
    { exact: '/logout' },
    { prefix: '/api/v1/products' },
  ]);
});

test('bookinfo task configs: jason routing, 7 s delay, 500 abort, weights that sum to 100', () => {
  const net = 'bookinfo/networking/';
  const testV2 = doc(`${net}virtual-service-reviews-test-v2.yaml`, 'VirtualService', 'reviews').spec.http;
  assert.deepEqual(testV2[0].match, [{ headers: { 'end-user': { exact: 'jason' } } }]);
  assert.equal(testV2[0].route[0].destination.subset, 'v2');
  assert.equal(testV2[1].route[0].destination.subset, 'v1');
  const delay = doc(`${net}virtual-service-ratings-test-delay.yaml`, 'VirtualService', 'ratings').spec
    .http[0];
  assert.deepEqual(delay.fault, { delay: { percentage: { value: 100 }, fixedDelay: '7s' } });
  const abort = doc(`${net}virtual-service-ratings-test-abort.yaml`, 'VirtualService', 'ratings').spec
    .http[0];
  assert.deepEqual(abort.fault, { abort: { percentage: { value: 100 }, httpStatus: 500 } });
  for (const vs of all.filter((d) => d.kind === 'VirtualService')) {
    for (const rule of [...(vs.body.spec.http ?? []), ...(vs.body.spec.tcp ?? [])]) {
      if (rule.route.length < 2) continue;
      const sum = rule.route.reduce((n: number, r: any) => n + r.weight, 0);
      assert.equal(sum, 100, `${vs.file} ${vs.name}`);
    }
  }
});

test('httpbin: 8000 → 8080, mirror to v2 at 100%, circuit breaker limits of 1', () => {
  const svc = doc('httpbin/httpbin.yaml', 'Service', 'httpbin');
  assert.deepEqual(svc.spec.ports, [{ name: 'http', port: 8000, targetPort: 8080 }]);
  const mirror = doc('httpbin/networking/virtual-service-httpbin-mirror.yaml', 'VirtualService', 'httpbin');
  assert.deepEqual(mirror.spec.http[0].mirror, { host: 'httpbin', subset: 'v2' });
  assert.deepEqual(mirror.spec.http[0].mirrorPercentage, { value: 100 });
  const cb = doc(
    'httpbin/networking/destination-rule-httpbin-circuit-breaker.yaml',
    'DestinationRule',
    'httpbin',
  );
  assert.deepEqual(cb.spec.trafficPolicy, {
    connectionPool: {
      tcp: { maxConnections: 1 },
      http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
    },
    outlierDetection: {
      consecutive5xxErrors: 1,
      interval: '1s',
      baseEjectionTime: '3m',
      maxEjectionPercent: 100,
    },
  });
});

test('tcp-echo: ports 9000/9001, v1 "one" and v2 "two", gateway on TCP 31400', () => {
  const svc = doc('tcp-echo/tcp-echo.yaml', 'Service', 'tcp-echo');
  assert.deepEqual(svc.spec.ports, [
    { name: 'tcp', port: 9000 },
    { name: 'tcp-other', port: 9001 },
  ]);
  for (const [v, prefix] of [
    ['v1', 'one'],
    ['v2', 'two'],
  ]) {
    const args = doc('tcp-echo/tcp-echo.yaml', 'Deployment', `tcp-echo-${v}`).spec.template.spec.containers[0]
      .args;
    assert.deepEqual(args, ['9000,9001', prefix]);
  }
  const gw = doc('tcp-echo/networking/tcp-echo-all-v1.yaml', 'Gateway', 'tcp-echo-gateway');
  assert.deepEqual(gw.spec.servers[0].port, { number: 31400, name: 'tcp', protocol: 'TCP' });
});
