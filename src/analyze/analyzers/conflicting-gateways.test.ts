// Table tests for conflicting Gateways (IST0145).
import { conflictingGatewaysAnalyzer } from './conflicting-gateways.js';
import { runAnalyzerTable } from '../test-util.js';

/** A Gateway with one server; its port number is on line 13. */
const gateway = (
  name: string,
  port: number,
  hosts: string[],
  selector = 'istio: ingressgateway',
): string => `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: ${name}
spec:
  selector:
    ${selector}
  servers:
    - port:
        name: http
        protocol: HTTP
        number: ${port}
      hosts:
${hosts.map((h) => `        - "${h}"\n`).join('')}`;

runAnalyzerTable(conflictingGatewaysAnalyzer, [
  {
    name: 'different hosts on one port',
    yaml: gateway('a', 80, ['a.example.com']) + gateway('b', 80, ['b.example.com']),
    expect: [],
  },
  {
    name: 'same host on different ports',
    yaml: gateway('a', 80, ['*']) + gateway('b', 8080, ['*']),
    expect: [],
  },
  {
    name: 'same host and port on different workloads',
    yaml: gateway('a', 80, ['*']) + gateway('b', 80, ['*'], 'istio: internal'),
    expect: [],
  },
  {
    name: 'same selector, port and overlapping hosts',
    yaml: gateway('a', 80, ['*.example.com']) + gateway('b', 80, ['ns1/shop.example.com']),
    expect: [
      {
        code: 'IST0145',
        path: 'spec.servers[0].port.number',
        line: 13,
        message:
          /^Conflict with gateways default\/b \(workload selector istio=ingressgateway, port 80, hosts \*\.example\.com\)\.$/,
      },
      { code: 'IST0145', path: 'spec.servers[0].port.number', line: 28 },
    ],
  },
]);
