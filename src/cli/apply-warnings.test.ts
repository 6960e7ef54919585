// apply's warnings: a route to a subset no DestinationRule defines (IST0101, over the running config
// plus what is applied), and workloads whose containers have no command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../api/load.js';
import { imageOnlyWarnings, referenceWarnings } from './apply-warnings.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
`;
const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v1 }
`;
const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }]
`;

const load = (text: string, file: string) => {
  const r = loadText(text, file);
  assert.deepEqual(r.diagnostics, []);
  return r.resources;
};

test('a VirtualService naming a subset no DestinationRule defines warns IST0101 at apply', () => {
  const running = load(SERVICE, 'service.yaml');
  const warnings = referenceWarnings(load(VS, 'vs.yaml'), running);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(
    warnings[0],
    /^vs\.yaml:\d+:\d+: Warning \[IST0101\] \(VirtualService default\/reviews\) .*subset/,
  );
  // With the DestinationRule running, or applied together, nothing to say.
  assert.deepEqual(referenceWarnings(load(VS, 'vs.yaml'), [...running, ...load(DR, 'dr.yaml')]), []);
  assert.deepEqual(referenceWarnings([...load(VS, 'vs.yaml'), ...load(DR, 'dr.yaml')], running), []);
});

test('a Deployment whose container has no command warns that nothing runs for it', () => {
  const deployment = (container: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ratings-v1 }
spec:
  selector: { matchLabels: { app: ratings } }
  template:
    metadata: { labels: { app: ratings } }
    spec:
      containers:
      - ${container}
`;
  const imageOnly = imageOnlyWarnings(
    load(deployment('{ name: ratings, image: docker.io/istio/ratings:1.20 }'), 'd.yaml'),
  );
  assert.equal(imageOnly.length, 1);
  assert.match(
    imageOnly[0],
    /^d\.yaml:1:1: warning: Deployment default\/ratings-v1: container ratings has no command/,
  );
  assert.deepEqual(
    imageOnlyWarnings(load(deployment('{ name: ratings, image: x, command: [node, ratings.js] }'), 'd.yaml')),
    [],
  );
});
