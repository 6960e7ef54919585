// Valid and invalid PeerAuthentication documents.
import { runTable, type Case } from '../../test-util.js';

const pa = (spec: string, meta = '', version = 'v1'): string =>
  `apiVersion: security.istio.io/${version}\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: foo\n${meta}spec:\n${spec}`;

const cases: Case[] = [
  {
    name: 'mesh-wide STRICT in the root namespace (Istio mTLS migration task)',
    yaml: `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
`,
  },
  { name: 'namespace-wide PERMISSIVE, v1beta1', yaml: pa('  mtls:\n    mode: PERMISSIVE\n', '', 'v1beta1') },
  {
    name: 'workload policy with a port-level exception (numeric YAML key)',
    yaml: pa(
      '  selector:\n    matchLabels:\n      app: httpbin\n  mtls:\n    mode: STRICT\n  portLevelMtls:\n    8080:\n      mode: DISABLE\n',
    ),
  },
  { name: 'empty spec inherits everything', yaml: pa('  {}\n') },
  {
    name: 'no spec at all',
    yaml: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: x\n',
  },
  {
    name: 'snake_case port_level_mtls',
    yaml: pa(
      '  selector:\n    matchLabels:\n      app: a\n  port_level_mtls:\n    "9080":\n      mode: PERMISSIVE\n',
    ),
  },
  {
    name: 'unknown mode suggests the right one',
    yaml: pa('  mtls:\n    mode: STRICTT\n'),
    errors: [
      {
        path: 'spec.mtls.mode',
        message: /must be one of UNSET, DISABLE, PERMISSIVE, STRICT.*did you mean "STRICT"/,
      },
    ],
  },
  {
    name: 'mTLS spelt with capitals is an unknown field with a suggestion',
    yaml: pa('  mTLS:\n    mode: STRICT\n'),
    errors: [{ path: 'spec.mTLS', message: /unknown field "mTLS"; did you mean "mtls"/, line: 7 }],
  },
  {
    name: 'portLevelMtls without a selector',
    yaml: pa('  mtls:\n    mode: STRICT\n  portLevelMtls:\n    8080:\n      mode: DISABLE\n'),
    errors: [{ path: 'spec.portLevelMtls', message: /needs a selector with matchLabels/ }],
  },
  {
    name: 'portLevelMtls with a selector that has no labels',
    yaml: pa('  selector: {}\n  portLevelMtls:\n    8080:\n      mode: DISABLE\n'),
    errors: [{ path: 'spec.portLevelMtls', message: /needs a selector/ }],
  },
  {
    name: 'port key out of range',
    yaml: pa(
      '  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    70000:\n      mode: DISABLE\n',
    ),
    errors: [{ path: 'spec.portLevelMtls["70000"]', message: /port numbers between 1 and 65535/ }],
  },
  {
    name: 'port key that is a name',
    yaml: pa(
      '  selector:\n    matchLabels:\n      app: a\n  portLevelMtls:\n    http:\n      mode: DISABLE\n',
    ),
    errors: [{ path: 'spec.portLevelMtls.http', message: /port numbers/ }],
  },
  {
    name: 'empty portLevelMtls',
    yaml: pa('  selector:\n    matchLabels:\n      app: a\n  portLevelMtls: {}\n'),
    errors: [{ path: 'spec.portLevelMtls', message: /at least one port/ }],
  },
  {
    name: 'wildcard in selector',
    yaml: pa('  selector:\n    matchLabels:\n      app: "*"\n'),
    errors: [{ path: 'spec.selector.matchLabels.app', message: /wildcard is not supported/ }],
  },
  {
    name: 'dry-run annotation is refused',
    yaml: pa('  mtls:\n    mode: STRICT\n', '  annotations:\n    istio.io/dry-run: "true"\n'),
    errors: [
      { path: 'metadata.annotations["istio.io/dry-run"]', message: /only supported on AuthorizationPolicy/ },
    ],
  },
  {
    name: 'selector without labels warns',
    yaml: pa('  selector:\n    matchLabels: {}\n  mtls:\n    mode: STRICT\n'),
    warnings: [{ path: 'spec.selector', message: /selects every workload/ }],
  },
];

runTable('PeerAuthentication', cases);
