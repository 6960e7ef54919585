// Table tests for conflicting VirtualService hosts (IST0109 on the mesh, MZ-GATEWAY-HOST-MERGE on gateways).
import { conflictingHostsAnalyzer } from './conflicting-hosts.js';
import { runAnalyzerTable } from '../test-util.js';

/** A VirtualService; its first host is on line 8. */
const vs = (
  name: string,
  host: string,
  opts: { ns?: string; gateways?: string[]; exportTo?: string; http?: string } = {},
): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  namespace: ${opts.ns ?? 'default'}
spec:
  hosts:
    - ${host}
${opts.gateways ? `  gateways:\n${opts.gateways.map((g) => `    - ${g}\n`).join('')}` : ''}${opts.exportTo ? `  exportTo:\n    - "${opts.exportTo}"\n` : ''}  http:
${opts.http ?? '    - route:\n        - destination:\n            host: reviews\n'}`;

const matchV2 =
  '    - match:\n        - uri:\n            prefix: /v2\n      route:\n        - destination:\n            host: reviews\n';

runAnalyzerTable(conflictingHostsAnalyzer, [
  { name: 'one VirtualService per host', yaml: vs('a', 'reviews') + vs('b', 'ratings'), expect: [] },
  {
    name: 'two mesh VirtualServices for the same host (short name and FQDN) both get IST0109',
    yaml: vs('a', 'reviews') + vs('b', 'reviews.default.svc.cluster.local'),
    expect: [
      {
        code: 'IST0109',
        path: 'spec.hosts[0]',
        line: 9,
        message:
          /^The VirtualServices default\/a,default\/b associated with mesh gateway define the same host reviews\.default\.svc\.cluster\.local/,
      },
      { code: 'IST0109', path: 'spec.hosts[0]', line: 22 },
    ],
  },
  {
    name: 'explicit mesh counts as the mesh gateway',
    yaml: vs('a', 'reviews', { gateways: ['mesh', 'gw'] }) + vs('b', 'reviews'),
    expect: [
      { code: 'IST0109', path: 'spec.hosts[0]' },
      { code: 'IST0109', path: 'spec.hosts[0]' },
    ],
  },
  {
    name: 'the same short name in two namespaces is two hosts',
    yaml: vs('a', 'reviews') + vs('b', 'reviews', { ns: 'prod' }),
    expect: [],
  },
  {
    name: 'VirtualServices exported to disjoint namespaces do not conflict',
    yaml:
      vs('a', 'api.example.com', { exportTo: '.' }) +
      vs('b', 'api.example.com', { ns: 'prod', exportTo: '.' }),
    expect: [],
  },
  {
    name: 'gateway VirtualServices for one host merge: fine without a catch-all',
    yaml:
      vs('a', 'shop.example.com', { gateways: ['gw'], http: matchV2 }) +
      vs('b', 'shop.example.com', { gateways: ['default/gw'] }),
    expect: [],
  },
  {
    name: 'a later gateway VirtualService behind an earlier catch-all is never used',
    yaml:
      vs('a', 'shop.example.com', { gateways: ['gw'] }) +
      vs('b', 'shop.example.com', { gateways: ['gw'], http: matchV2 }),
    expect: [
      {
        code: 'MZ-GATEWAY-HOST-MERGE',
        path: 'spec.hosts[0]',
        line: 24,
        message: /also bound by VirtualService default\/a, which comes first and has a catch-all http rule/,
      },
    ],
  },
  {
    name: 'different gateways do not merge',
    yaml:
      vs('a', 'shop.example.com', { gateways: ['gw'] }) +
      vs('b', 'shop.example.com', { gateways: ['other-gw'] }),
    expect: [],
  },
]);
