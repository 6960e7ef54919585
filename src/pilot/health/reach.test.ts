// Which resources reach a proxy, read from the config pilot generates for it (bookinfo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatorFor, proxyRef, pushFromYaml } from '../test-util.js';
import { reachedResources, resourceOfConfigPath } from './reach.js';

const EXAMPLES = join(process.cwd(), 'examples', 'bookinfo');
const read = (f: string): string => readFileSync(join(EXAMPLES, f), 'utf8');

test('config paths name the resource', () => {
  assert.equal(
    resourceOfConfigPath('/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews'),
    'VirtualService default/reviews',
  );
  assert.equal(
    resourceOfConfigPath('/apis/networking.istio.io/v1/namespaces/ns1/destination-rule/r'),
    'DestinationRule ns1/r',
  );
  assert.equal(resourceOfConfigPath('/something/else'), undefined);
});

test("productpage's sidecar is reached by the reviews VirtualService and the DestinationRules it routes through", () => {
  const push = pushFromYaml(
    read('bookinfo.yaml'),
    read('networking/destination-rule-all.yaml'),
    read('networking/virtual-service-reviews-50-v3.yaml'),
  );
  const productpage = proxyRef({
    ip: '127.1.0.7',
    name: 'productpage-v1-0',
    labels: { app: 'productpage', version: 'v1' },
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  const reached = reachedResources(generatorFor(push), productpage);
  assert.ok(reached.has('VirtualService default/reviews'), [...reached].join(', '));
  assert.ok(reached.has('DestinationRule default/reviews'), [...reached].join(', '));
  assert.ok(!reached.has('Gateway default/bookinfo-gateway'));
});
