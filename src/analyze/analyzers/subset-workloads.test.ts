// Table tests for DestinationRule hosts (IST0174) and subsets selecting no workload (IST0173).
import { subsetWorkloadsAnalyzer } from './subset-workloads.js';
import { runAnalyzerTable } from '../test-util.js';

/** A DestinationRule; subset i's labels are on line 10 + 4i. */
const dr = (host: string, versions: string[], name = 'reviews'): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${name}
spec:
  host: ${host}
  subsets:
${versions.map((v) => `    - name: ${v}\n      labels:\n        version: ${v}\n`).join('')}`;

const se = `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: vms
spec:
  hosts:
    - vms.example.com
  ports:
    - number: 80
      name: http
      protocol: HTTP
  resolution: STATIC
  endpoints:
    - address: 10.0.0.1
      labels:
        version: v1
`;

runAnalyzerTable(subsetWorkloadsAnalyzer, [
  { name: 'every subset selects a Deployment', yaml: dr('reviews', ['v1', 'v2']), expect: [] },
  {
    name: 'a subset selecting no pods',
    yaml: dr('reviews', ['v1', 'v3']),
    expect: [
      {
        code: 'IST0173',
        path: 'spec.subsets[1].labels',
        line: 14,
        message:
          /^The Subset v3 defined in the DestinationRule does not select any pods\. Which may lead to 503 UH \(NoHealthyUpstream\)\.$/,
      },
    ],
  },
  {
    name: "a subset's labels combine with the service selector",
    yaml: dr('ratings', ['v2']),
    expect: [{ code: 'IST0173', path: 'spec.subsets[0].labels' }],
  },
  {
    name: 'a host no service provides',
    yaml: dr('reveiws', ['v1']),
    expect: [
      {
        code: 'IST0174',
        path: 'spec.host',
        line: 7,
        message:
          /^The host reveiws defined in the DestinationRule does not match any services in the mesh; did you mean "reviews"\?$/,
      },
    ],
  },
  {
    name: 'ServiceEntry endpoints are matched by their labels',
    yaml: se + dr('vms.example.com', ['v1']),
    expect: [],
  },
  {
    name: 'a ServiceEntry subset no endpoint carries',
    yaml: se + dr('vms.example.com', ['v2']),
    expect: [{ code: 'IST0173', path: 'spec.subsets[0].labels' }],
  },
  { name: 'wildcard hosts are not judged', yaml: dr('"*.example.com"', ['v9']), expect: [] },
  {
    name: 'no services in the input: nothing to judge against',
    world: '',
    yaml: dr('reviews', ['v9']),
    expect: [],
  },
]);
