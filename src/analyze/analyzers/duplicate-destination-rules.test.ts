// Table tests for two DestinationRules configuring one host (MZ-DESTINATION-RULE-MERGE).
import { duplicateDestinationRulesAnalyzer } from './duplicate-destination-rules.js';
import { runAnalyzerTable } from '../test-util.js';

/** A DestinationRule; its host is on line 8. */
const dr = (name: string, host: string, ns = 'default', subsets: string[] = []): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  host: ${host}
${subsets.length ? `  subsets:\n${subsets.map((s) => `    - name: ${s}\n`).join('')}` : ''}`;

runAnalyzerTable(duplicateDestinationRulesAnalyzer, [
  { name: 'one rule per host', yaml: dr('a', 'reviews') + dr('b', 'ratings'), expect: [] },
  {
    name: 'the same host by short name and FQDN',
    yaml:
      dr('a', 'reviews', 'default', ['v1']) +
      dr('b', 'reviews.default.svc.cluster.local', 'default', ['v1', 'v2']),
    expect: [
      {
        code: 'MZ-DESTINATION-RULE-MERGE',
        path: 'spec.host',
        line: 18,
        message:
          /^DestinationRule default\/a already configures host reviews\.default\.svc\.cluster\.local; Istio merges the two \(first one's trafficPolicy wins, subsets v1 keep the first definition\)/,
      },
    ],
  },
  {
    name: 'rules in different namespaces serve different clients',
    yaml: dr('a', 'reviews.default.svc.cluster.local') + dr('b', 'reviews.default.svc.cluster.local', 'prod'),
    expect: [],
  },
]);
