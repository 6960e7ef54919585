// Table tests for Sidecar selectors (IST0101 selector, IST0110, IST0111).
import { sidecarSelectorAnalyzer } from './sidecar-selectors.js';
import { runAnalyzerTable } from '../test-util.js';

/** A Sidecar; its selector labels are on line 8. */
const sidecar = (name: string, labels: string | null, ns = 'default'): string =>
  `---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n${
    labels === null ? '' : `  workloadSelector:\n    labels:\n      ${labels}\n`
  }  egress:\n    - hosts:\n        - "./*"\n`;

runAnalyzerTable(sidecarSelectorAnalyzer, [
  {
    name: 'one Sidecar per workload and one default',
    yaml: sidecar('a', 'app: reviews') + sidecar('b', 'app: ratings') + sidecar('c', null),
    expect: [],
  },
  {
    name: 'a Sidecar selecting no workload',
    yaml: sidecar('a', 'app: nothing'),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.workloadSelector.labels',
        line: 10,
        message: /^Referenced selector not found: "app=nothing"/,
      },
    ],
  },
  {
    name: 'two Sidecars selecting the same workloads',
    yaml: sidecar('a', 'app: reviews') + sidecar('b', 'version: v1'),
    expect: [
      {
        code: 'IST0110',
        path: 'spec.workloadSelector.labels',
        line: 10,
        message: /Sidecars \[a b\] in namespace "default" select the same workload pod "reviews-v1"/,
      },
      { code: 'IST0110', path: 'spec.workloadSelector.labels', line: 23 },
    ],
  },
  {
    name: 'two Sidecars without selector in one namespace',
    yaml: sidecar('a', null) + sidecar('b', null) + sidecar('c', null, 'prod'),
    expect: [
      {
        code: 'IST0111',
        path: 'metadata.name',
        line: 5,
        message: /^The Sidecars \[a b\] in namespace "default" have no workload selector/,
      },
      { code: 'IST0111', path: 'metadata.name', line: 15 },
    ],
  },
]);
