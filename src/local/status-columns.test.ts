// The columns `mizzen status` and `mizzen get` print: pod READY/STATUS/RESTARTS, sidecar sync state,
// kind names, ages; and the gateway ports and URLs `up` prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.js';
import { gatewayPorts, gatewayUrls, publishedPort } from './gateway-ports.js';
import { pluralOf, qualifiedKindOf, resolveKind } from './kind-names.js';
import { podStatus } from './pod-status.js';
import type { PodRecord, ProcessRecord } from './run-state.js';
import { classify, syncStateOf } from './syncz.js';
import { formatAge, formatTable } from './table.js';

const pod: PodRecord = {
  name: 'web-abc-12345',
  namespace: 'default',
  workload: 'web',
  workloadKind: 'Deployment',
  labels: { app: 'web', version: 'v1' },
  serviceAccount: 'default',
  podIp: '127.1.0.1',
  appIp: '127.2.0.1',
  ports: [8000],
  appProcesses: ['web-abc-12345'],
  sidecar: {
    process: 'web-abc-12345 sidecar',
    adminPort: 1,
    nodeId: 'sidecar~127.1.0.1~web-abc-12345.default~x',
  },
  createdAt: 0,
};

function proc(name: string, over: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    name,
    pid: 1,
    state: 'running',
    restarts: 0,
    startedAt: 0,
    lastExit: null,
    nextRestartAt: null,
    logFile: '',
    ...over,
  };
}

test('a container with only an image counts as not ready and the pod shows ImageNotRun', () => {
  const imagePod: PodRecord = { ...pod, imageOnly: ['db'] };
  const ok = { 'web-abc-12345': proc('a'), 'web-abc-12345 sidecar': proc('s') };
  assert.deepEqual(podStatus(imagePod, ok, { app: true, sidecar: true }), {
    ready: '2/3',
    status: 'ImageNotRun',
    restarts: 0,
  });
  const onlyImage: PodRecord = { ...pod, appProcesses: [], imageOnly: ['web'] };
  assert.deepEqual(
    podStatus(onlyImage, { 'web-abc-12345 sidecar': proc('s') }, { app: true, sidecar: true }),
    {
      ready: '1/2',
      status: 'ImageNotRun',
      restarts: 0,
    },
  );
  const crashing = { ...ok, 'web-abc-12345': proc('a', { state: 'backoff', restarts: 2 }) };
  assert.equal(podStatus(imagePod, crashing, undefined).status, 'CrashLoopBackOff', 'a worse state wins');
});

test('pod READY counts the app and the sidecar; STATUS follows the processes like kubectl', () => {
  const ok = { 'web-abc-12345': proc('a'), 'web-abc-12345 sidecar': proc('s') };
  assert.deepEqual(podStatus(pod, ok, { app: true, sidecar: true }), {
    ready: '2/2',
    status: 'Running',
    restarts: 0,
  });
  assert.equal(podStatus(pod, ok, { app: false, sidecar: true }).ready, '1/2');
  assert.equal(podStatus(pod, ok, undefined).ready, '0/2');
  const crashing = { ...ok, 'web-abc-12345': proc('a', { state: 'backoff', restarts: 3 }) };
  assert.deepEqual(podStatus(pod, crashing, { app: false, sidecar: true }), {
    ready: '1/2',
    status: 'CrashLoopBackOff',
    restarts: 3,
  });
  const firstCrash = { ...ok, 'web-abc-12345': proc('a', { state: 'backoff' }) };
  assert.equal(podStatus(pod, firstCrash, undefined).status, 'Error');
  const done = {
    ...ok,
    'web-abc-12345': proc('a', { state: 'exited', lastExit: { code: 0, signal: null, at: 0 } }),
  };
  assert.equal(podStatus(pod, done, undefined).status, 'Completed');
  const sidecarRestarts = { ...ok, 'web-abc-12345 sidecar': proc('s', { restarts: 2 }) };
  assert.equal(podStatus(pod, sidecarRestarts, undefined).restarts, 2);
  const stopping = { ...ok, 'web-abc-12345': proc('a', { state: 'stopping' }) };
  assert.equal(podStatus(pod, stopping, undefined).status, 'Terminating');
});

test('sync state: every sent version ACKed is SYNCED, otherwise STALE; absent is NOT CONNECTED', () => {
  const lds = 'type.googleapis.com/envoy.config.listener.v3.Listener';
  const cds = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
  assert.equal(
    classify({ types: { [lds]: { sent: 'v2', acked: 'v2' }, [cds]: { sent: 'v2', acked: 'v2' } } }),
    'SYNCED',
  );
  assert.equal(classify({ types: { [lds]: { sent: 'v3', acked: 'v2' } } }), 'STALE');
  const states = new Map([['a', 'SYNCED' as const]]);
  assert.equal(syncStateOf(states, 'a'), 'SYNCED');
  assert.equal(syncStateOf(states, 'b'), 'NOT CONNECTED');
  assert.equal(syncStateOf(undefined, 'a'), 'UNKNOWN');
});

test('kind names as kubectl takes them', () => {
  assert.equal(resolveKind('vs'), 'VirtualService');
  assert.equal(resolveKind('virtualservices'), 'VirtualService');
  assert.equal(resolveKind('VirtualService.networking.istio.io'), 'VirtualService');
  assert.equal(resolveKind('authorizationpolicies'), 'AuthorizationPolicy');
  assert.equal(resolveKind('po'), 'Pod');
  assert.equal(resolveKind('deployments'), 'Deployment');
  assert.equal(resolveKind('frobs'), undefined);
  assert.equal(pluralOf('Gateway'), 'gateways');
  assert.equal(pluralOf('ServiceEntry'), 'serviceentries');
  assert.equal(qualifiedKindOf('Deployment'), 'deployment.apps');
  assert.equal(qualifiedKindOf('Service'), 'service');
});

test('tables and ages read like kubectl', () => {
  assert.equal(
    formatTable(
      ['NAME', 'AGE'],
      [
        ['a', '1s'],
        ['long-name', '3m'],
      ],
    ),
    'NAME        AGE\na           1s\nlong-name   3m',
  );
  assert.deepEqual(
    [formatAge(5000), formatAge(600_000), formatAge(3 * 3600_000), formatAge(3 * 86400_000)],
    ['5s', '10m', '3h', '3d'],
  );
});

test('gateway ports below 1024 are published at port+offset; URLs come from the bound VirtualServices', () => {
  const r = loadText(
    `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 80, name: http, protocol: HTTP }
      hosts: ["httpbin.example.com"]
    - port: { number: 31400, name: tcp, protocol: TCP }
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: other }
spec:
  selector: { istio: eastwestgateway }
  servers:
    - port: { number: 15443, name: tls, protocol: TLS }
      tls: { mode: AUTO_PASSTHROUGH }
      hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin }
spec:
  hosts: [httpbin.example.com]
  gateways: [gw]
  http:
    - match: [{ uri: { prefix: /status } }]
      route: [{ destination: { host: httpbin } }]
`,
    'gw.yaml',
  );
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  assert.equal(publishedPort(443, 8000), 8443);
  assert.equal(publishedPort(31400, 8000), 31400);
  assert.deepEqual(
    gatewayPorts(r.resources, 8000).map((p) => [p.port, p.published, p.protocol]),
    [
      [80, 8080, 'HTTP'],
      [31400, 31400, 'TCP'],
    ],
  );
  assert.deepEqual(gatewayUrls(r.resources, 8000), [
    "curl -H 'Host: httpbin.example.com' http://localhost:8080/status",
    'tcp://localhost:31400   (gw, TCP)',
  ]);
});
