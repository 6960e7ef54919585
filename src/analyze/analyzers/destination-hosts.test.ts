// Table tests for the destination host analyzer (IST0101 host / mirror host / host:port, IST0112).
import { destinationHostAnalyzer } from './destination-hosts.js';
import { runAnalyzerTable, service, WORLD } from '../test-util.js';

/** A VirtualService whose spec body starts on line 6. */
const vs = (spec: string, name = 'reviews'): string =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

const route = (host: string, extra = ''): string =>
  `  hosts:\n    - reviews\n  http:\n    - route:\n        - destination:\n            host: ${host}\n${extra}`;

const multiPort = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
    - name: http-admin
      port: 8080
`;

runAnalyzerTable(destinationHostAnalyzer, [
  {
    name: 'short and fully qualified hosts that exist',
    yaml: vs(
      route('reviews') + `        - destination:\n            host: ratings.default.svc.cluster.local\n`,
    ),
    expect: [],
  },
  {
    name: 'a misspelt host is reported at the field with a suggestion',
    yaml: vs(route('reviewz')),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].route[0].destination.host',
        line: 11,
        message: /^Referenced host not found: "reviewz"; did you mean "reviews"\?$/,
      },
    ],
  },
  {
    name: 'name.namespace is not expanded (as in Istio) and the FQDN is suggested',
    yaml: vs(route('reviews.default')),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].route[0].destination.host',
        message: /did you mean "reviews\.default\.svc\.cluster\.local"/,
      },
    ],
  },
  {
    name: 'a short name resolves in the VirtualService namespace, not elsewhere',
    yaml: vs(route('reviews')).replace('  name: reviews\n', '  name: reviews\n  namespace: prod\n'),
    expect: [{ code: 'IST0101', path: 'spec.http[0].route[0].destination.host', line: 12 }],
  },
  {
    name: 'a missing mirror host',
    yaml: vs(route('reviews', '      mirror:\n        host: shadow\n')),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].mirror.host',
        line: 13,
        message: /^Referenced mirror host not found: "shadow"/,
      },
    ],
  },
  {
    name: 'a missing tcp destination',
    yaml: vs(
      '  hosts:\n    - reviews\n  tcp:\n    - route:\n        - destination:\n            host: nosuch\n',
    ),
    expect: [{ code: 'IST0101', path: 'spec.tcp[0].route[0].destination.host', line: 11 }],
  },
  {
    name: 'a wildcard ServiceEntry provides the host',
    yaml:
      vs(route('api.example.com')) +
      `---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext\nspec:\n  hosts:\n    - "*.example.com"\n  ports:\n    - number: 443\n      name: tls\n      protocol: TLS\n  resolution: NONE\n`,
    expect: [],
  },
  {
    name: 'a ServiceEntry exported only to its own namespace is not visible from another',
    yaml:
      vs(route('api.example.com')) +
      `---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext\n  namespace: other\nspec:\n  hosts:\n    - api.example.com\n  exportTo:\n    - "."\n`,
    expect: [{ code: 'IST0101', path: 'spec.http[0].route[0].destination.host' }],
  },
  {
    name: 'a destination port the service does not expose',
    yaml: vs(route('reviews', '            port:\n              number: 9090\n')),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].route[0].destination.port.number',
        line: 13,
        message: /^Referenced host:port not found: "reviews:9090"; Service default\/reviews exposes 9080$/,
      },
    ],
  },
  {
    name: 'a gateway route to a multi-port service without a port',
    world: WORLD + '---\n' + multiPort,
    yaml: vs(
      '  hosts:\n    - "*"\n  gateways:\n    - gw\n  http:\n    - route:\n        - destination:\n            host: web\n',
    ),
    expect: [
      {
        code: 'IST0112',
        path: 'spec.http[0].route[0].destination.host',
        line: 13,
        message: /exposes multiple ports \[80 8080\]/,
      },
    ],
  },
  {
    name: 'a sidecar route to a multi-port service needs no port (the listener port picks it)',
    world: WORLD + '---\n' + multiPort,
    yaml: vs('  hosts:\n    - web\n  http:\n    - route:\n        - destination:\n            host: web\n'),
    expect: [],
  },
  {
    name: 'host checks are skipped when the input declares no services at all',
    world: '',
    yaml: vs(route('anything')),
    expect: [],
  },
  {
    name: 'a service in another namespace by FQDN',
    world: WORLD + '---\n' + service('details', ['v1'], { ns: 'shop' }),
    yaml: vs(route('details.shop.svc.cluster.local') + `        - destination:\n            host: details\n`),
    expect: [{ code: 'IST0101', path: 'spec.http[0].route[1].destination.host', line: 13 }],
  },
]);
