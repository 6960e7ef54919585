// Valid and invalid Pod and Deployment documents, and the bookinfo platform manifests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runTable, load, type Case } from '../../test-util.js';
import { formatDiagnostic } from '../../diagnostic.js';
import { selectorMatches } from './object-reference.js';
import type { Deployment } from './deployment.js';
import type { Pod } from './pod.js';

const pod = (spec: string, status = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: sleep\n  labels:\n    app: sleep\nspec:\n${spec}${status}`;

const pods: Case[] = [
  {
    name: 'sleep pod with env, ports and fields a mesh ignores',
    yaml: pod(`  serviceAccountName: sleep
  terminationGracePeriodSeconds: 0
  securityContext:
    runAsUser: 1000
  volumes:
  - name: secret
    secret:
      secretName: sleep-secret
  containers:
  - name: sleep
    image: curlimages/curl
    command: ["/bin/sleep", "infinity"]
    imagePullPolicy: IfNotPresent
    env:
    - name: PORT
      value: "8080"
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: TOKEN
      valueFrom:
        secretKeyRef:
          name: sleep-secret
          key: token
    ports:
    - containerPort: 8080
      name: http
    resources:
      requests:
        cpu: 10m
    readinessProbe:
      httpGet:
        path: /ready
        port: 8080
    volumeMounts:
    - mountPath: /etc/sleep/tls
      name: secret
`),
  },
  {
    name: 'status with pod IPs',
    yaml: pod(
      '  containers:\n  - name: a\n    image: x\n',
      'status:\n  phase: Running\n  podIP: 10.244.0.5\n  podIPs:\n  - ip: 10.244.0.5\n  hostIP: 172.18.0.2\n  startTime: "2024-01-01T00:00:00Z"\n',
    ),
  },
  {
    name: 'serviceAccountName misspelt',
    yaml: pod('  serviceAcountName: sleep\n  containers:\n  - name: a\n'),
    errors: [{ path: 'spec.serviceAcountName', message: /did you mean "serviceAccountName"/ }],
  },
  {
    name: 'container field misspelt',
    yaml: pod('  containers:\n  - name: a\n    comand: [sleep]\n'),
    errors: [{ path: 'spec.containers[0].comand', message: /did you mean "command"/ }],
  },
  {
    name: 'containers are required',
    yaml: pod('  serviceAccountName: sleep\n'),
    errors: [{ path: 'spec.containers', message: /is required/ }],
  },
  {
    name: 'container without a name',
    yaml: pod('  containers:\n  - image: x\n'),
    errors: [{ path: 'spec.containers[0].name', message: /is required/ }],
  },
  {
    name: 'duplicate container names',
    yaml: pod('  containers:\n  - name: a\n  - name: a\n'),
    errors: [{ path: 'spec.containers[1].name', message: /duplicate container name "a"/ }],
  },
  {
    name: 'env value as a number',
    yaml: pod('  containers:\n  - name: a\n    env:\n    - name: PORT\n      value: 8080\n'),
    errors: [{ path: 'spec.containers[0].env[0].value', message: /must be a string, got number 8080/ }],
  },
  {
    name: 'env with value and valueFrom',
    yaml: pod(
      '  containers:\n  - name: a\n    env:\n    - name: X\n      value: a\n      valueFrom:\n        fieldRef:\n          fieldPath: metadata.name\n',
    ),
    errors: [
      { path: 'spec.containers[0].env[0].valueFrom', message: /may not be set when value is not empty/ },
    ],
  },
  {
    name: 'valueFrom with two sources',
    yaml: pod(
      '  containers:\n  - name: a\n    env:\n    - name: X\n      valueFrom:\n        fieldRef:\n          fieldPath: metadata.name\n        secretKeyRef:\n          key: k\n',
    ),
    errors: [{ path: 'spec.containers[0].env[0].valueFrom', message: /only one of fieldRef/ }],
  },
  {
    name: 'env name with "="',
    yaml: pod('  containers:\n  - name: a\n    env:\n    - name: A=B\n      value: x\n'),
    errors: [{ path: 'spec.containers[0].env[0].name', message: /other than "="/ }],
  },
  {
    name: 'containerPort out of range',
    yaml: pod('  containers:\n  - name: a\n    ports:\n    - containerPort: 0\n'),
    errors: [{ path: 'spec.containers[0].ports[0].containerPort', message: /between 1 and 65535/ }],
  },
  {
    name: 'container port name too long',
    yaml: pod(
      '  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n      name: http-frontend-web\n',
    ),
    errors: [{ path: 'spec.containers[0].ports[0].name', message: /IANA_SVC_NAME/ }],
  },
  {
    name: 'duplicate port names across containers',
    yaml: pod(
      '  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n      name: http\n  - name: b\n    ports:\n    - containerPort: 81\n      name: http\n',
    ),
    errors: [{ path: 'spec.containers[1].ports[0].name', message: /duplicate port name "http" in the pod/ }],
  },
  {
    name: 'podIP that is not an IP',
    yaml: pod('  containers:\n  - name: a\n', 'status:\n  podIP: pod-1\n'),
    errors: [{ path: 'status.podIP', message: /must be an IP address/ }],
  },
  {
    name: 'deprecated serviceAccount warns',
    yaml: pod('  serviceAccount: sleep\n  containers:\n  - name: a\n'),
    warnings: [{ path: 'spec.serviceAccount', message: /deprecated: use serviceAccountName/ }],
  },
];

const dep = (spec: string, apiVersion = 'apps/v1'): string =>
  `apiVersion: ${apiVersion}\nkind: Deployment\nmetadata:\n  name: reviews-v1\nspec:\n${spec}`;
const template =
  '  template:\n    metadata:\n      labels:\n        app: reviews\n        version: v1\n    spec:\n      containers:\n      - name: reviews\n        image: x\n';

const deployments: Case[] = [
  {
    name: 'selector with matchLabels and matchExpressions',
    yaml: dep(
      `  replicas: 3\n  selector:\n    matchLabels:\n      app: reviews\n    matchExpressions:\n    - key: version\n      operator: In\n      values: [v1, v2]\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n${template}`,
    ),
  },
  {
    name: 'extensions/v1beta1 without a selector warns and defaults it',
    yaml: dep(template, 'extensions/v1beta1'),
    warnings: [
      {
        path: 'apiVersion',
        message: /extensions\/v1beta1 is deprecated: removed in Kubernetes 1.16; use apps\/v1/,
      },
    ],
  },
  {
    name: 'selector does not match the template labels',
    yaml: dep(`  selector:\n    matchLabels:\n      app: ratings\n${template}`),
    errors: [{ path: 'spec.selector', message: /does not match the template labels/ }],
  },
  {
    name: 'NotIn expression excludes the template',
    yaml: dep(
      `  selector:\n    matchExpressions:\n    - key: version\n      operator: NotIn\n      values: [v1]\n${template}`,
    ),
    errors: [{ path: 'spec.selector', message: /does not match/ }],
  },
  {
    name: 'selector is required in apps/v1',
    yaml: dep(template),
    errors: [{ path: 'spec.selector', message: /is required in apps\/v1/ }],
  },
  {
    name: 'empty selector',
    yaml: dep(`  selector: {}\n${template}`),
    errors: [{ path: 'spec.selector', message: /must not be empty/ }],
  },
  {
    name: 'In expression without values',
    yaml: dep(`  selector:\n    matchExpressions:\n    - key: app\n      operator: In\n${template}`),
    errors: [
      { path: 'spec.selector.matchExpressions[0].values', message: /must be non-empty when operator is In/ },
    ],
  },
  {
    name: 'negative replicas',
    yaml: dep(`  replicas: -1\n  selector:\n    matchLabels:\n      app: reviews\n${template}`),
    errors: [{ path: 'spec.replicas', message: /between 0 and/ }],
  },
  {
    name: 'template is required',
    yaml: dep('  selector:\n    matchLabels:\n      app: reviews\n'),
    errors: [{ path: 'spec.template', message: /is required/ }],
  },
  {
    name: 'typo inside the template pod spec',
    yaml: dep(
      '  selector:\n    matchLabels:\n      app: reviews\n  template:\n    metadata:\n      labels:\n        app: reviews\n    spec:\n      containers:\n      - name: reviews\n        imagePullPolicy: IfNotPresent\n        port:\n        - containerPort: 9080\n',
    ),
    errors: [{ path: 'spec.template.spec.containers[0].port', message: /did you mean "ports"/ }],
  },
  {
    name: 'template metadata labels misspelt',
    yaml: dep(
      '  selector:\n    matchLabels:\n      app: reviews\n  template:\n    metadata:\n      label:\n        app: reviews\n    spec:\n      containers:\n      - name: reviews\n',
    ),
    errors: [{ path: 'spec.template.metadata.label', message: /did you mean "labels"/ }],
  },
  {
    name: 'rollingUpdate with Recreate',
    yaml: dep(
      `  selector:\n    matchLabels:\n      app: reviews\n  strategy:\n    type: Recreate\n    rollingUpdate:\n      maxSurge: 1\n${template}`,
    ),
    errors: [{ path: 'spec.strategy.rollingUpdate', message: /may not be set when type is Recreate/ }],
  },
];

runTable('Pod', pods);
runTable('Deployment', deployments);

test('old Deployment apiVersions get their selector from the template labels', () => {
  const r = load(dep(template, 'apps/v1beta1'));
  const d = r.resources[0] as Deployment;
  assert.deepEqual(d.spec.selector, { matchLabels: { app: 'reviews', version: 'v1' } });
});

test("bookinfo's platform manifests load without a diagnostic", () => {
  const text = readFileSync(
    new URL('../../../../../examples/bookinfo/bookinfo.yaml', import.meta.url),
    'utf8',
  );
  const r = load(text);
  assert.equal(r.diagnostics.length, 0, r.diagnostics.map(formatDiagnostic).join('\n'));
  const kinds = r.resources.map((x) => x.kind);
  assert.ok(kinds.includes('Service') && kinds.includes('Deployment') && kinds.includes('ServiceAccount'));
  const reviews = r.resources.find((x) => x.metadata.name === 'reviews-v2') as Deployment;
  assert.equal(reviews.spec.template.spec.serviceAccountName, 'bookinfo-reviews');
  assert.ok((reviews.spec.template.spec.containers[0].ports ?? []).some((p) => p.containerPort === 9080));
});

test('a loaded Pod is typed: containers, env and status read directly', () => {
  const r = load(pods[1].yaml);
  const p = r.resources[0] as Pod;
  assert.equal(p.status?.podIP, '10.244.0.5');
  assert.equal(p.spec.containers[0].name, 'a');
});

test('selectorMatches: matchLabels and every operator', () => {
  const l = { app: 'a', version: 'v1' };
  assert.equal(selectorMatches({}, l), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'a' } }, l), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'b' } }, l), false);
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: 'version', operator: 'In', values: ['v1'] }] }, l),
    true,
  );
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] }, l),
    false,
  );
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, l),
    true,
  );
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, l), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, l), false);
});
