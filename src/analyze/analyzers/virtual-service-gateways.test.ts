// Table tests for the VirtualService gateway analyzer (IST0101 gateway, IST0132).
import { virtualServiceGatewayAnalyzer } from './virtual-service-gateways.js';
import { runAnalyzerTable } from '../test-util.js';

const gateway = (name: string, hosts: string[], ns = 'default'): string => `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector:
    istio: ingressgateway
  servers:
    - port:
        number: 80
        name: http
        protocol: HTTP
      hosts:
${hosts.map((h) => `        - "${h}"\n`).join('')}`;

/** A VirtualService for `hosts` on `gateways`; hosts start on line 7, gateways follow them. */
const vs = (hosts: string[], gateways: string[]): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
spec:
  hosts:
${hosts.map((h) => `    - "${h}"\n`).join('')}  gateways:
${gateways.map((g) => `    - ${g}\n`).join('')}  http:
    - route:
        - destination:
            host: reviews
`;

runAnalyzerTable(virtualServiceGatewayAnalyzer, [
  {
    name: 'gateway exists and accepts every host',
    yaml: vs(['*'], ['web-gw', 'mesh']) + gateway('web-gw', ['*']),
    expect: [],
  },
  {
    name: 'a missing gateway, with a suggestion for a close name',
    yaml: vs(['*'], ['web-gwy']) + gateway('web-gw', ['*']),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.gateways[0]',
        line: 9,
        message: /^Referenced gateway not found: "web-gwy"; did you mean "web-gw"\?$/,
      },
    ],
  },
  {
    name: 'namespace/name references resolve in that namespace',
    yaml: vs(['*'], ['istio-system/web-gw', 'other/web-gw']) + gateway('web-gw', ['*'], 'istio-system'),
    expect: [{ code: 'IST0101', path: 'spec.gateways[1]', line: 10, message: /"other\/web-gw"/ }],
  },
  {
    name: 'gateways named in matches are checked too',
    yaml:
      vs(['*'], ['web-gw']).replace(
        '    - route:',
        '    - match:\n        - gateways:\n            - nosuch\n      route:',
      ) + gateway('web-gw', ['*']),
    expect: [{ code: 'IST0101', path: 'spec.http[0].match[0].gateways[0]', line: 13 }],
  },
  {
    name: 'a host the gateway does not serve',
    yaml:
      vs(['shop.example.com', 'api.example.com'], ['web-gw']) +
      gateway('web-gw', ['*.example.org', 'api.example.com']),
    expect: [
      {
        code: 'IST0132',
        path: 'spec.hosts[0]',
        line: 7,
        message:
          /^one or more host \[shop\.example\.com\] defined in VirtualService default\/web not found in Gateway default\/web-gw\.$/,
      },
    ],
  },
  {
    name: 'a wildcard gateway host covers the VirtualService host',
    yaml: vs(['shop.example.com'], ['web-gw']) + gateway('web-gw', ['*.example.com']),
    expect: [],
  },
  {
    name: 'a gateway host restricted to another namespace does not serve this one',
    yaml: vs(['shop.example.com'], ['web-gw']) + gateway('web-gw', ['prod/shop.example.com']),
    expect: [{ code: 'IST0132', path: 'spec.hosts[0]' }],
  },
  {
    name: 'a gateway host restricted to "." serves VirtualServices of the gateway namespace',
    yaml: vs(['shop.example.com'], ['web-gw']) + gateway('web-gw', ['./shop.example.com']),
    expect: [],
  },
]);
