// Table tests for DestinationRule TLS modes against PeerAuthentication (MZ-MTLS-CONFLICT).
import { mtlsConflictAnalyzer } from './mtls-conflict.js';
import { runAnalyzerTable } from '../test-util.js';

/** A DestinationRule for reviews; its trafficPolicy tls mode is on line 9. */
const dr = (mode: string, extra = ''): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    tls:
      mode: ${mode}
${extra}`;

const pa = (
  name: string,
  mode: string,
  opts: { ns?: string; selector?: string; ports?: string } = {},
): string => `---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: ${name}
  namespace: ${opts.ns ?? 'default'}
spec:
${opts.selector ? `  selector:\n    matchLabels:\n      ${opts.selector}\n` : ''}  mtls:
    mode: ${mode}
${opts.ports ? `  portLevelMtls:\n${opts.ports}` : ''}`;

runAnalyzerTable(mtlsConflictAnalyzer, [
  { name: 'ISTIO_MUTUAL to STRICT workloads', yaml: dr('ISTIO_MUTUAL') + pa('strict', 'STRICT'), expect: [] },
  {
    name: 'DISABLE to PERMISSIVE workloads',
    yaml: dr('DISABLE') + pa('permissive', 'PERMISSIVE'),
    expect: [],
  },
  {
    name: 'DISABLE to a namespace that is STRICT',
    yaml: dr('DISABLE') + pa('strict', 'STRICT'),
    expect: [
      {
        code: 'MZ-MTLS-CONFLICT',
        path: 'spec.trafficPolicy.tls.mode',
        line: 9,
        message:
          /^sends plaintext \(tls\.mode DISABLE\) to reviews\.default\.svc\.cluster\.local port 9080, but PeerAuthentication default\/strict requires mutual TLS \(STRICT\) on Deployment default\/reviews-v1/,
      },
    ],
  },
  {
    name: 'DISABLE when the mesh-wide policy in the root namespace is STRICT',
    yaml: dr('DISABLE') + pa('mesh', 'STRICT', { ns: 'istio-system' }),
    expect: [
      {
        code: 'MZ-MTLS-CONFLICT',
        path: 'spec.trafficPolicy.tls.mode',
        message: /PeerAuthentication istio-system\/mesh/,
      },
    ],
  },
  {
    name: 'a namespace PERMISSIVE policy overrides a STRICT mesh',
    yaml: dr('DISABLE') + pa('mesh', 'STRICT', { ns: 'istio-system' }) + pa('ns', 'PERMISSIVE'),
    expect: [],
  },
  {
    name: 'ISTIO_MUTUAL to workloads whose policy disables mTLS',
    yaml: dr('ISTIO_MUTUAL') + pa('off', 'DISABLE', { selector: 'app: reviews' }),
    expect: [
      { code: 'MZ-MTLS-CONFLICT', path: 'spec.trafficPolicy.tls.mode', message: /^sends Istio mutual TLS/ },
    ],
  },
  {
    name: 'a workload port-level PERMISSIVE mode wins over its STRICT policy',
    yaml:
      dr('DISABLE') +
      pa('w', 'STRICT', { selector: 'app: reviews', ports: '    "9080":\n      mode: PERMISSIVE\n' }),
    expect: [],
  },
  {
    name: 'a subset with DISABLE reaching only the STRICT version',
    yaml:
      dr(
        'ISTIO_MUTUAL',
        '  subsets:\n    - name: v2\n      labels:\n        version: v2\n      trafficPolicy:\n        tls:\n          mode: DISABLE\n',
      ) + pa('v2', 'STRICT', { selector: 'version: v2' }),
    expect: [
      {
        code: 'MZ-MTLS-CONFLICT',
        path: 'spec.subsets[0].trafficPolicy.tls.mode',
        line: 16,
        message: /reviews-v2/,
      },
    ],
  },
  {
    name: 'a port-level DISABLE for a port the STRICT policy relaxes is fine; the top level is checked on the rest',
    yaml:
      dr(
        'ISTIO_MUTUAL',
        '    portLevelSettings:\n      - port:\n          number: 9080\n        tls:\n          mode: DISABLE\n',
      ) + pa('w', 'STRICT', { selector: 'app: reviews', ports: '    "9080":\n      mode: PERMISSIVE\n' }),
    expect: [],
  },
  {
    name: 'a port-level DISABLE on a STRICT port',
    yaml:
      dr(
        'ISTIO_MUTUAL',
        '    portLevelSettings:\n      - port:\n          number: 9080\n        tls:\n          mode: DISABLE\n',
      ) + pa('w', 'STRICT', { selector: 'app: reviews' }),
    expect: [
      { code: 'MZ-MTLS-CONFLICT', path: 'spec.trafficPolicy.portLevelSettings[0].tls.mode', line: 14 },
    ],
  },
]);
