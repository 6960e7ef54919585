// Table tests for the destination subset analyzer (IST0101 host+subset in destinationrule).
import { destinationSubsetAnalyzer } from './destination-subsets.js';
import { runAnalyzerTable } from '../test-util.js';

/** A VirtualService routing to reviews (subset on line 12) and mirroring to `mirror` (line 15). */
const vs = (
  subset: string,
  mirrorSubset = 'v1',
  ns = 'default',
): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: ${ns}
spec:
  hosts:
    - reviews
  http:
    - route:
        - destination:
            host: reviews
            subset: ${subset}
      mirror:
        host: reviews
        subset: ${mirrorSubset}
`;

const dr = (subsets: string[], extra = '', ns = 'default', host = 'reviews'): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-${subsets.join('-')}
  namespace: ${ns}
spec:
  host: ${host}
${extra}  subsets:
${subsets.map((s) => `    - name: ${s}\n      labels:\n        version: ${s}\n`).join('')}`;

runAnalyzerTable(destinationSubsetAnalyzer, [
  { name: 'route and mirror subsets defined', yaml: vs('v2') + dr(['v1', 'v2']), expect: [] },
  {
    name: 'a route subset no DestinationRule defines',
    yaml: vs('v3') + dr(['v1', 'v2']),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].route[0].destination.subset',
        line: 13,
        message:
          /^Referenced host\+subset in destinationrule not found: "reviews\+v3"; defined subsets: v1, v2$/,
      },
    ],
  },
  {
    name: 'a misspelt mirror subset gets a suggestion',
    yaml: vs('v1', 'v22') + dr(['v1', 'v2']),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].mirror.subset',
        line: 16,
        message: /did you mean "v2"\?; defined subsets: v1, v2$/,
      },
    ],
  },
  {
    name: 'no DestinationRule for the host at all',
    yaml: vs('v1'),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.http[0].route[0].destination.subset',
        message: /no DestinationRule for this host defines subsets/,
      },
      { code: 'IST0101', path: 'spec.http[0].mirror.subset' },
    ],
  },
  {
    name: 'subsets merge across DestinationRules for the host (FQDN and short name)',
    yaml: vs('v2') + dr(['v1']) + dr(['v2'], '', 'default', 'reviews.default.svc.cluster.local'),
    expect: [],
  },
  {
    name: 'a DestinationRule exported only to its namespace serves that namespace',
    yaml: vs('v1', 'v1', 'web') + dr(['v1'], '  exportTo:\n    - "."\n', 'web'),
    expect: [],
  },
  {
    name: 'a DestinationRule in another namespace exported only there',
    yaml:
      vs('v1', 'v1', 'web') +
      dr(['v1'], '  exportTo:\n    - "."\n', 'other', 'reviews.web.svc.cluster.local'),
    expect: [
      { code: 'IST0101', path: 'spec.http[0].route[0].destination.subset' },
      { code: 'IST0101', path: 'spec.http[0].mirror.subset' },
    ],
  },
  {
    name: 'a wildcard DestinationRule host covers the destination',
    yaml: vs('v1') + dr(['v1'], '', 'default', '"*.default.svc.cluster.local"'),
    expect: [],
  },
]);
