// MeshConfig in ConfigMap istio-system/istio: enum values Mizzen acts on are checked with the file's line.
import { runTable, type Case } from '../../test-util.js';

// Lines: 1 apiVersion, 2 kind, 3 metadata, 4 name, 5 namespace, 6 data, 7 mesh: |, 8.. the mesh text.
const mesh = (text: string, name = 'istio'): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: istio-system\ndata:\n  mesh: |\n${text
    .split('\n')
    .map((l) => (l ? `    ${l}` : l))
    .join('\n')}`;

const cases: Case[] = [
  ...['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'].map((n) => ({
    name: `pathNormalization ${n}`,
    yaml: mesh(`pathNormalization:\n  normalization: ${n}\n`),
  })),
  {
    name: 'unknown pathNormalization (would have become BASE)',
    yaml: mesh(`accessLogFile: /dev/stdout\npathNormalization:\n  normalization: MERGE_SLASH\n`),
    errors: [
      {
        path: 'data.mesh.pathNormalization.normalization',
        message: /must be one of .*DECODE_AND_MERGE_SLASHES.*did you mean "MERGE_SLASHES"/,
        line: 10,
      },
    ],
  },
  {
    name: 'unknown outboundTrafficPolicy mode',
    yaml: mesh(`outboundTrafficPolicy:\n  mode: REGISTRY\n`),
    errors: [{ path: 'data.mesh.outboundTrafficPolicy.mode', message: /ALLOW_ANY, REGISTRY_ONLY/, line: 9 }],
  },
  {
    name: 'trustDomain is used; trustDomainAliases is warned (not enforced)',
    yaml: mesh(`trustDomain: corp.example\ntrustDomainAliases: [old.example]\n`),
    warnings: [{ path: 'data.mesh.trustDomainAliases', message: /not supported/ }],
  },
  {
    name: 'mesh text that is not YAML',
    yaml: mesh(`pathNormalization: [\n`),
    errors: [{ path: 'data.mesh', message: /YAML syntax error/ }],
  },
  {
    name: 'a ConfigMap with another name is not MeshConfig',
    yaml: mesh(`pathNormalization:\n  normalization: whatever\n`, 'other'),
  },
  {
    name: 'fields Mizzen does not act on are kept',
    yaml: mesh(`defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\nenableTracing: true\n`),
  },
];

runTable('MeshConfig', cases);
