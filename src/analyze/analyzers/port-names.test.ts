// Table tests for the Service port naming convention (IST0118).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { portNameAnalyzer, portProtocol } from './port-names.js';
import { runAnalyzerTable } from '../test-util.js';

/** A Service with the given port lines; the first port item is on line 8. */
const svc = (ports: string, ns = 'default'): string =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: ${ns}\nspec:\n  ports:\n${ports}`;

runAnalyzerTable(portNameAnalyzer, [
  {
    name: 'conventional names and appProtocol',
    world: '',
    yaml: svc(
      '    - name: http\n      port: 80\n    - name: grpc-api\n      port: 90\n    - name: web\n      port: 91\n      appProtocol: http2\n    - name: HTTP2-x\n      port: 92\n',
    ),
    expect: [],
  },
  {
    name: 'a name without a protocol prefix',
    world: '',
    yaml: svc('    - name: web\n      port: 80\n      targetPort: 8080\n'),
    expect: [
      {
        code: 'IST0118',
        path: 'spec.ports[0].name',
        line: 8,
        message:
          /^Port name web \(port: 80, targetPort: 8080\) doesn't follow the naming convention of Istio port;/,
      },
    ],
  },
  {
    name: 'an unnamed port, and an unknown appProtocol falls back to the name',
    world: '',
    yaml: svc(
      '    - port: 80\n    - name: tcp-db\n      port: 5432\n      appProtocol: postgresql\n    - name: db\n      port: 5433\n      appProtocol: postgresql\n',
    ),
    expect: [
      {
        code: 'IST0118',
        path: 'spec.ports[0]',
        line: 8,
        message: /^Port name {2}\(port: 80, targetPort: 80\)/,
      },
      { code: 'IST0118', path: 'spec.ports[2].name', line: 12 },
    ],
  },
  {
    name: 'UDP ports are not proxied',
    world: '',
    yaml: svc('    - name: dns\n      port: 53\n      protocol: UDP\n'),
    expect: [],
  },
  {
    name: 'system namespaces are skipped',
    world: '',
    yaml: svc('    - name: web\n      port: 80\n', 'istio-system'),
    expect: [],
  },
]);

test('portProtocol reads prefixes and appProtocol as Istio does', () => {
  assert.equal(portProtocol('http-web'), 'http');
  assert.equal(portProtocol('grpc-web-ui'), 'grpc-web');
  assert.equal(portProtocol('tcp'), 'tcp');
  assert.equal(portProtocol('httpx'), undefined);
  assert.equal(portProtocol('web', 'kubernetes.io/h2c'), 'kubernetes.io/h2c');
  assert.equal(portProtocol(undefined), undefined);
});
