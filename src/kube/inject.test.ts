// Sidecar injection: the seeds' manifests, Istio's annotations, positioned errors, and the capture rules
// loaded by a real iptables-restore in a network namespace the test creates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES, runMizzen } from '../cli/test-util.js';
import { injectManifests } from './inject.js';
import { captureRules, KUBERNETES_CAPTURE } from '../local/capture-rules.js';

const OPTIONS = {
  image: 'mizzen/mizzen:test',
  discoveryAddress: 'istiod.istio-system.svc:15010',
  enablePrometheusMerge: () => true,
};

function docs(text: string): any[] {
  return parseAllDocuments(text).map((d) => d.toJS());
}

function deployment(annotations: Record<string, string> = {}, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', ...labels }, annotations },
        spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }] }] },
      },
    },
  });
}

function podSpec(text: string, options = OPTIONS): any {
  const r = injectManifests(text, 'web.yaml', options);
  assert.notEqual(r.text, null, JSON.stringify(r.diagnostics));
  return docs(r.text!)[0].spec.template;
}

test('kube-inject: every Deployment of bookinfo and httpbin gets istio-init and istio-proxy; other kinds pass through', () => {
  for (const [file, deployments] of [
    [`${EXAMPLES}bookinfo/bookinfo.yaml`, 6],
    [`${EXAMPLES}httpbin/httpbin.yaml`, 1],
  ] as const) {
    const input = readFileSync(file, 'utf8');
    const r = injectManifests(input, file, OPTIONS);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.injected.length, deployments);
    const before = docs(input);
    const after = docs(r.text!);
    assert.equal(after.length, before.length);
    for (const [i, d] of after.entries()) {
      if (d.kind !== 'Deployment') {
        assert.deepEqual(d, before[i], `${d.kind} ${d.metadata.name} unchanged`);
        continue;
      }
      const t = d.spec.template;
      assert.deepEqual(
        t.spec.containers.map((c: any) => c.name),
        [...before[i].spec.template.spec.containers.map((c: any) => c.name), 'istio-proxy'],
      );
      assert.deepEqual(
        t.spec.initContainers.map((c: any) => c.name),
        ['istio-init'],
      );
      assert.equal(t.metadata.labels['security.istio.io/tlsMode'], 'istio');
      assert.equal(
        JSON.parse(t.metadata.annotations['sidecar.istio.io/status']).containers[0],
        'istio-proxy',
      );
    }
    // Injecting the output again changes nothing.
    const again = injectManifests(r.text!, file, OPTIONS);
    assert.equal(again.injected.length, 0);
    assert.ok(again.skipped.every((s) => s.endsWith('already has a sidecar')));
  }
});

test("kube-inject honours Istio's annotations", () => {
  // Opt-out by annotation or label; the label wins over the annotation.
  for (const text of [
    deployment({ 'sidecar.istio.io/inject': 'false' }),
    deployment({ 'sidecar.istio.io/inject': 'true' }, { 'sidecar.istio.io/inject': 'false' }),
  ]) {
    const r = injectManifests(text, 'web.yaml', OPTIONS);
    assert.equal(r.injected.length, 0);
    assert.match(r.skipped[0], /sidecar\.istio\.io\/inject is "false"/);
  }

  const t = podSpec(
    deployment({
      'sidecar.istio.io/proxyCPU': '250m',
      'sidecar.istio.io/proxyMemory': '256Mi',
      'sidecar.istio.io/proxyCPULimit': '1',
      'sidecar.istio.io/proxyMemoryLimit': '1Gi',
      'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true',
      'status.sidecar.istio.io/port': '15555',
      'traffic.sidecar.istio.io/includeInboundPorts': '8080',
      'traffic.sidecar.istio.io/excludeOutboundPorts': '5432',
      'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.96.0.1/32',
      'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8',
    }),
  );
  const [proxy, app] = t.spec.containers;
  assert.equal(proxy.name, 'istio-proxy', 'holdApplicationUntilProxyStarts puts the proxy first');
  assert.equal(app.name, 'web');
  assert.match(proxy.lifecycle.postStart.exec.command[2], /healthz\/ready/);
  assert.deepEqual(proxy.resources, {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '1', memory: '1Gi' },
  });
  assert.equal(proxy.readinessProbe.httpGet.port, 15555);
  assert.equal(proxy.env.find((e: any) => e.name === 'MIZZEN_STATUS_PORT').value, '15555');
  const rules: string = t.spec.initContainers[0].env[0].value;
  for (const line of [
    '-A ISTIO_INBOUND -p tcp --dport 8080 -j ISTIO_IN_REDIRECT',
    '-A ISTIO_OUTPUT -p tcp --dport 5432 -j RETURN',
    '-A ISTIO_OUTPUT -d 10.96.0.1/32 -j RETURN',
    '-A ISTIO_OUTPUT -d 10.0.0.0/8 -j ISTIO_REDIRECT',
  ])
    assert.ok(rules.split('\n').includes(line), `missing ${line} in\n${rules}`);
  assert.ok(!rules.includes('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'), 'only the listed ranges are captured');

  // Status port 0: no readiness probe and no --status-port.
  const off = podSpec(deployment({ 'status.sidecar.istio.io/port': '0' })).spec.containers[1];
  assert.equal(off.readinessProbe, undefined);
  assert.equal(off.env.find((e: any) => e.name === 'MIZZEN_STATUS_PORT').value, '');
});

test("kube-inject merges the app's Prometheus metrics into the proxy's :15020 as Istio's injector", () => {
  const env = (t: any): Record<string, string> =>
    Object.fromEntries(
      t.spec.containers.find((c: any) => c.name === 'istio-proxy').env.map((e: any) => [e.name, e.value]),
    );
  const merged = podSpec(
    deployment({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/m' }),
  );
  assert.equal(merged.metadata.annotations['prometheus.io/port'], '15020');
  assert.equal(merged.metadata.annotations['prometheus.io/path'], '/stats/prometheus');
  assert.equal(merged.metadata.annotations['prometheus.io/scrape'], 'true');
  assert.deepEqual(JSON.parse(env(merged).ISTIO_PROMETHEUS_ANNOTATIONS), {
    scrape: 'true',
    path: '/m',
    port: '9102',
  });
  assert.equal(env(merged).MIZZEN_MERGED_STATS_PORT, '15020');
  // Opted out: annotations untouched, no merged endpoint.
  const out = podSpec(deployment({ 'prometheus.io/scrape': 'false', 'prometheus.io/port': '9102' }));
  assert.equal(out.metadata.annotations['prometheus.io/port'], '9102');
  assert.equal(env(out).MIZZEN_MERGED_STATS_PORT, '');
  assert.equal(env(out).ISTIO_PROMETHEUS_ANNOTATIONS, undefined);
  // MeshConfig enablePrometheusMerge: false: no merge, the annotations keep pointing at the app...
  const noMerge = { ...OPTIONS, enablePrometheusMerge: () => false };
  const off = podSpec(deployment({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' }), noMerge);
  assert.equal(off.metadata.annotations['prometheus.io/port'], '9102');
  assert.equal(off.metadata.annotations['prometheus.io/path'], undefined);
  assert.equal(env(off).MIZZEN_MERGED_STATS_PORT, '');
  assert.equal(env(off).ISTIO_PROMETHEUS_ANNOTATIONS, undefined);
  // ...unless the pod's own prometheus.istio.io/merge-metrics says true.
  const on = podSpec(
    deployment({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9102',
      'prometheus.istio.io/merge-metrics': 'true',
    }),
    noMerge,
  );
  assert.equal(on.metadata.annotations['prometheus.io/port'], '15020');
  assert.equal(env(on).MIZZEN_MERGED_STATS_PORT, '15020');
});

test('kube-inject stops at a bad annotation with file, line, field and message; unsupported ones are warned about', () => {
  const text = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/proxyCPU: lots
        sidecar.istio.io/bootstrapOverride: my-config
    spec:
      containers: [{ name: web, image: web:1 }]
`;
  const r = injectManifests(text, 'web.yaml', OPTIONS);
  assert.equal(r.text, null);
  const err = r.diagnostics.find((d) => d.severity === 'error')!;
  assert.equal(err.file, 'web.yaml');
  assert.equal(err.line, 8);
  assert.equal(err.path, 'spec.template.metadata.annotations["sidecar.istio.io/proxyCPU"]');
  assert.match(err.message, /"lots" is not a Kubernetes quantity/);
  const warn = r.diagnostics.find((d) => d.severity === 'warning')!;
  assert.equal(warn.line, 9);
  assert.match(warn.message, /bootstrapOverride is not supported by Mizzen's injector/);
});

test('mizzen kube-inject prints the injected manifests; the httpbin Deployment matches docs/kubernetes.md', async () => {
  const r = await runMizzen([
    'kube-inject',
    '-f',
    `${EXAMPLES}httpbin/httpbin.yaml`,
    '--image',
    'mizzen/mizzen:0.1.0',
  ]);
  assert.equal(r.code, 0, r.err);
  const injected = docs(r.out).find((d) => d.kind === 'Deployment');
  const doc = readFileSync(new URL('../../../docs/kubernetes.md', import.meta.url), 'utf8');
  const shown = /<!-- kube-inject httpbin -->\n```yaml\n([\s\S]*?)```/.exec(doc);
  assert.ok(shown, 'docs/kubernetes.md shows the injected httpbin Deployment');
  assert.deepEqual(injected, parseAllDocuments(shown[1])[0].toJS());

  const bad = await runMizzen(
    ['kube-inject', '-f', '-'],
    deployment({ 'sidecar.istio.io/proxyMemory': 'x' }),
  );
  assert.equal(bad.code, 1);
  assert.match(
    bad.err,
    /^-:1:\d+: spec\.template\.metadata\.annotations\["sidecar\.istio\.io\/proxyMemory"\]: .*"x" is not/m,
  );
});

test('the capture rules load with iptables-restore in a fresh network namespace', () => {
  const ns = `mzk-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const rules = captureRules(
      {
        includeInboundPorts: '*',
        excludeInboundPorts: [9999],
        includeOutboundIPRanges: '*',
        excludeOutboundIPRanges: ['169.254.169.254/32'],
        includeOutboundPorts: [],
        excludeOutboundPorts: [5432],
      },
      KUBERNETES_CAPTURE,
    );
    const r = spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore', '--noflush'], { input: rules });
    assert.equal(r.status, 0, r.stderr.toString());
    const listed = execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-t', 'nat', '-S']).toString();
    for (const line of [
      '-A PREROUTING -p tcp -j ISTIO_INBOUND',
      '-A ISTIO_INBOUND -p tcp -m tcp --dport 9999 -j RETURN',
      '-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
      '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      '-A ISTIO_OUTPUT -d 169.254.169.254/32 -j RETURN',
      '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
    ])
      assert.ok(listed.split('\n').includes(line), `missing ${line} in\n${listed}`);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});
