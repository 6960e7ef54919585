// Annotations reserved to Istio's control plane are refused on user-written Istio resources.
import { runTable, type Case } from './test-util.js';

/** Lines: 1 apiVersion, 2 kind, 3 metadata, 4 name, 5 annotations, 6 the annotation. */
const doc = (kind: string, annotation: string, spec: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: ${kind}\nmetadata:\n  name: x\n  annotations:\n    ${annotation}: "x"\nspec:\n${spec}`;

const gateway = '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n';
const rule = '  host: reviews\n';

const cases: Case[] = [
  {
    name: 'webhook always-reject marker on a Gateway',
    yaml: doc('Gateway', 'internal.istio.io/webhook-always-reject', gateway),
    errors: [
      {
        path: 'metadata.annotations["internal.istio.io/webhook-always-reject"]',
        message: /test marker/,
        line: 6,
      },
    ],
  },
  {
    name: 'internal parents annotation on a DestinationRule',
    yaml: doc('DestinationRule', 'internal.istio.io/parents', rule),
    errors: [{ path: 'metadata.annotations["internal.istio.io/parents"]', message: /set only by Istio/ }],
  },
  {
    name: 'internal parent-namespace annotation on a DestinationRule',
    yaml: doc('DestinationRule', 'internal.istio.io/parent-namespace', rule),
    errors: [
      { path: 'metadata.annotations["internal.istio.io/parent-namespace"]', message: /set only by Istio/ },
    ],
  },
  {
    name: 'other annotations, including other internal.istio.io ones, are accepted',
    yaml: doc('DestinationRule', 'internal.istio.io/something-else', rule),
  },
];

runTable('reserved annotations', cases);
