// Table tests for ServiceEntries with TCP ports and no addresses (IST0134).
import { serviceEntryAddressesAnalyzer } from './service-entry-addresses.js';
import { runAnalyzerTable } from '../test-util.js';

/** A ServiceEntry; the first port item is on line 9. */
const se = (ports: string, addresses = ''): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: db\nspec:\n  hosts:\n    - db.example.com\n${addresses}  ports:\n${ports}  resolution: DNS\n`;

runAnalyzerTable(serviceEntryAddressesAnalyzer, [
  {
    name: 'HTTP and TLS ports need no addresses',
    yaml: se(
      '    - number: 80\n      name: http\n      protocol: HTTP\n    - number: 443\n      name: tls\n      protocol: TLS\n',
    ),
    expect: [],
  },
  {
    name: 'a TCP port without addresses',
    yaml: se('    - number: 5432\n      name: tcp-pg\n      protocol: TCP\n'),
    expect: [
      {
        code: 'IST0134',
        path: 'spec.ports[0].protocol',
        line: 11,
        message: /^ServiceEntry addresses are required for this protocol\.$/,
      },
    ],
  },
  {
    name: 'a port without protocol counts as TCP',
    yaml: se('    - number: 5432\n      name: pg\n'),
    expect: [{ code: 'IST0134', path: 'spec.ports[0]', line: 9 }],
  },
  {
    name: 'addresses given',
    yaml: se(
      '    - number: 5432\n      name: tcp-pg\n      protocol: TCP\n',
      '  addresses:\n    - 240.0.0.1\n',
    ),
    expect: [],
  },
]);
