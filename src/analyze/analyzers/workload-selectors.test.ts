// Table tests for policy and Gateway selectors that match no workload (IST0127, IST0101 selector).
import { workloadSelectorAnalyzer } from './workload-selectors.js';
import { runAnalyzerTable, WORLD } from '../test-util.js';

/** A policy of `kind` selecting `labels`; its labels are on line 9. */
const policy = (kind: string, labels: string | null, ns = 'default', body = ''): string => {
  const group = kind === 'Telemetry' ? 'telemetry.istio.io/v1' : 'security.istio.io/v1';
  const sel = labels === null ? '' : `  selector:\n    matchLabels:\n      ${labels}\n`;
  return `apiVersion: ${group}\nkind: ${kind}\nmetadata:\n  name: p\n  namespace: ${ns}\nspec:\n${sel}${body}`;
};

const gateway = (selector: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  selector:\n    ${selector}\n  servers:\n    - port:\n        number: 80\n        name: http\n        protocol: HTTP\n      hosts:\n        - "*"\n`;

const workloadEntry = `---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: vm1
spec:
  address: 10.0.0.1
  labels:
    app: legacy
`;

runAnalyzerTable(workloadSelectorAnalyzer, [
  {
    name: 'PeerAuthentication selecting a Deployment',
    yaml: policy('PeerAuthentication', 'app: reviews'),
    expect: [],
  },
  {
    name: 'PeerAuthentication selecting nothing',
    yaml: policy('PeerAuthentication', 'app: reviewz'),
    expect: [
      {
        code: 'IST0127',
        path: 'spec.selector.matchLabels',
        line: 9,
        message:
          /^No matching workloads for this resource with the following labels: app=reviewz \(in namespace default\)$/,
      },
    ],
  },
  {
    name: 'AuthorizationPolicy selects only in its own namespace',
    yaml: policy('AuthorizationPolicy', 'app: reviews', 'prod'),
    expect: [{ code: 'IST0127', path: 'spec.selector.matchLabels' }],
  },
  {
    name: 'a root-namespace policy selects across the mesh',
    yaml: policy('AuthorizationPolicy', 'app: reviews', 'istio-system'),
    expect: [],
  },
  {
    name: 'RequestAuthentication selecting a WorkloadEntry',
    yaml: policy('RequestAuthentication', 'app: legacy') + workloadEntry,
    expect: [],
  },
  {
    name: 'Telemetry selecting nothing',
    yaml: policy('Telemetry', 'app: nothing'),
    expect: [{ code: 'IST0127', path: 'spec.selector.matchLabels' }],
  },
  {
    name: 'a namespace-wide AuthorizationPolicy in a namespace without workloads',
    yaml: policy('AuthorizationPolicy', null, 'empty', '  action: DENY\n'),
    expect: [
      { code: 'IST0127', path: 'metadata.namespace', line: 5, message: /namespace empty has no workloads/ },
    ],
  },
  {
    name: 'a policy attached by targetRef is not judged by labels',
    yaml: policy(
      'AuthorizationPolicy',
      null,
      'default',
      '  targetRef:\n    kind: Service\n    group: ""\n    name: reviews\n',
    ),
    expect: [],
  },
  {
    name: 'the built-in ingress gateway satisfies istio=ingressgateway',
    yaml: gateway('istio: ingressgateway'),
    expect: [],
  },
  {
    name: 'a Gateway selector with no workload anywhere',
    yaml: gateway('istio: egressgateway'),
    expect: [
      {
        code: 'IST0101',
        path: 'spec.selector',
        line: 7,
        message: /^Referenced selector not found: "istio=egressgateway"/,
      },
    ],
  },
  {
    name: 'selector checks are skipped when the input declares no workloads',
    world: '',
    yaml: policy('PeerAuthentication', 'app: reviewz') + '---\n' + gateway('istio: egressgateway'),
    expect: [],
  },
  {
    name: 'pods count as workloads',
    world:
      WORLD +
      '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  labels:\n    app: solo\nspec:\n  containers:\n    - name: c\n      image: x\n',
    yaml: policy('PeerAuthentication', 'app: solo'),
    expect: [],
  },
]);
