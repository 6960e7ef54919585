// The istio.io/dry-run annotation on every Istio kind: only AuthorizationPolicy takes it (Istio's metadata check).
import { runTable, type Case } from '../../test-util.js';

/** Lines: 1 apiVersion, 2 kind, 3 metadata, 4 name, 5 annotations, 6 the annotation. */
const doc = (apiVersion: string, kind: string, spec: string): string =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n  annotations:\n    istio.io/dry-run: "true"\nspec:\n${spec}`;

const kinds: [string, string, string][] = [
  [
    'networking.istio.io/v1',
    'VirtualService',
    '  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n',
  ],
  ['networking.istio.io/v1', 'DestinationRule', '  host: reviews\n'],
  [
    'networking.istio.io/v1',
    'Gateway',
    '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n',
  ],
  [
    'networking.istio.io/v1',
    'ServiceEntry',
    '  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n',
  ],
  ['networking.istio.io/v1', 'Sidecar', '  egress:\n  - hosts: ["./*"]\n'],
  ['networking.istio.io/v1', 'WorkloadEntry', '  address: 10.0.0.1\n'],
  ['networking.istio.io/v1', 'WorkloadGroup', '  template: {}\n'],
  ['networking.istio.io/v1alpha3', 'EnvoyFilter', '  priority: 1\n'],
  ['networking.istio.io/v1beta1', 'ProxyConfig', '  concurrency: 2\n'],
  ['security.istio.io/v1', 'PeerAuthentication', '  mtls: {mode: STRICT}\n'],
  ['security.istio.io/v1', 'RequestAuthentication', '  jwtRules:\n  - issuer: https://example.com\n'],
  ['telemetry.istio.io/v1', 'Telemetry', '  accessLogging:\n  - disabled: true\n'],
];

const cases: Case[] = [
  ...kinds.map(([v, kind, spec]) => ({
    name: `${kind} with istio.io/dry-run is refused`,
    yaml: doc(v, kind, spec),
    errors: [
      {
        path: 'metadata.annotations["istio.io/dry-run"]',
        message: /only supported on AuthorizationPolicy; remove it/,
        line: 6,
      },
    ],
  })),
  ...kinds.map(([v, kind, spec]) => ({
    name: `${kind} without the annotation loads`,
    yaml: doc(v, kind, spec).replace('  annotations:\n    istio.io/dry-run: "true"\n', ''),
  })),
  {
    name: 'AuthorizationPolicy takes it',
    yaml: doc('security.istio.io/v1', 'AuthorizationPolicy', '  action: DENY\n  rules:\n  - {}\n'),
  },
];

runTable('dry-run annotation', cases);
