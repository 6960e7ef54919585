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
    name: 'fields Mizzen does not act on are kept, each named in a warning with its line',
    yaml: mesh(
      `defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  gatewayTopology:\n    numTrustedProxies: 1\n    forwardClientCertDetails: SANITIZE\nenableTracing: true\nenablePrometheusMerg: true\n`,
    ),
    warnings: [
      { path: 'data.mesh.defaultConfig.discoveryAddress', message: /not enforced by Mizzen/, line: 9 },
      {
        path: 'data.mesh.defaultConfig.gatewayTopology.forwardClientCertDetails',
        message: /not enforced by Mizzen/,
        line: 12,
      },
      { path: 'data.mesh.enablePrometheusMerg', message: /no effect/, line: 14 },
    ],
  },
  {
    name: 'the fields Mizzen acts on warn nothing',
    yaml: mesh(
      `outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\nrootNamespace: istio-system\nconnectTimeout: 5s\ntrustDomain: cluster.local\nenableAutoMtls: true\naccessLogFile: /dev/stdout\naccessLogEncoding: JSON\nenableTracing: false\ndefaultProviders:\n  metrics: [prometheus]\ndefaultConfig:\n  gatewayTopology:\n    numTrustedProxies: 2\n`,
    ),
    noWarnings: true,
  },
  {
    name: 'connectTimeout must be a duration',
    yaml: mesh(`connectTimeout: soon\n`),
    errors: [{ path: 'data.mesh.connectTimeout', message: /duration/, line: 8 }],
  },
  {
    name: 'tracing providers: the fields Mizzen enforces are accepted without warnings',
    yaml: mesh(`extensionProviders:
- name: zipkin
  zipkin:
    service: zipkin.istio-system.svc.cluster.local
    port: 9411
    maxTagLength: 100
- name: otel
  opentelemetry:
    service: otel.istio-system.svc.cluster.local
    port: 4318
    http:
      path: /v1/traces
      timeout: 2s
      headers:
      - name: x-tenant
        value: a
defaultConfig:
  tracing:
    sampling: 10
`),
    noWarnings: true,
  },
  {
    name: 'tracing provider and defaultConfig.tracing fields Mizzen does not enforce warn',
    yaml: mesh(`extensionProviders:
- name: zipkin
  zipkin:
    service: zipkin.istio-system.svc.cluster.local
    port: 9411
    enable64bitTraceId: true
- name: otel
  opentelemetry:
    service: otel.istio-system.svc.cluster.local
    port: 4317
    grpc:
      initialMetadata:
      - name: x-tenant
        value: a
    resourceDetectors:
      environment: {}
defaultConfig:
  tracing:
    sampling: 10
    maxPathTagLength: 99
`),
    warnings: [
      {
        path: 'data.mesh.extensionProviders[0].zipkin.enable64bitTraceId',
        message: /not enforced/,
        line: 13,
      },
      { path: 'data.mesh.extensionProviders[1].opentelemetry.grpc.initialMetadata', message: /not enforced/ },
      { path: 'data.mesh.extensionProviders[1].opentelemetry.resourceDetectors', message: /service\.name/ },
      { path: 'data.mesh.defaultConfig.tracing.maxPathTagLength', message: /maxTagLength/ },
    ],
  },
  {
    name: "connectTimeout above Istio's 1 hour bound",
    yaml: mesh(`connectTimeout: 2h\n`),
    errors: [{ path: 'data.mesh.connectTimeout', message: /at most 3600s/, line: 8 }],
  },
  {
    name: 'trustDomain that is not a DNS name',
    yaml: mesh(`trustDomain: Corp_Example\n`),
    errors: [{ path: 'data.mesh.trustDomain', message: /is not a DNS name/, line: 8 }],
  },
  {
    name: 'trustDomain with a trailing dot is a DNS name',
    yaml: mesh(`trustDomain: corp.example.\n`),
  },
  {
    name: 'extension providers: unnamed, duplicate name, bad service, port and pathPrefix warn (Istio logs them)',
    yaml: mesh(`extensionProviders:
- name: authz
  envoyExtAuthzHttp: {service: authz.foo.svc.cluster.local, port: 8000, pathPrefix: check}
- name: authz
  envoyExtAuthzGrpc: {service: "bad_svc!", port: 9000}
- prometheus: {}
- name: tracing
  zipkin: {service: zipkin.istio-system.svc.cluster.local}
`),
    warnings: [
      {
        path: 'data.mesh.extensionProviders[0].envoyExtAuthzHttp.pathPrefix',
        message: /must begin with "\/"/,
      },
      { path: 'data.mesh.extensionProviders[1].name', message: /duplicate extension provider name authz/ },
      { path: 'data.mesh.extensionProviders[1].envoyExtAuthzGrpc.service', message: /not a host name/ },
      { path: 'data.mesh.extensionProviders[2]', message: /name must be set/ },
      { path: 'data.mesh.extensionProviders[3].zipkin.port', message: /between 1 and 65535/ },
    ],
  },
  {
    name: 'extension provider services as host, namespace/host and IP are fine',
    yaml: mesh(`extensionProviders:
- name: a
  envoyExtAuthzGrpc: {service: "foo/authz.foo.svc.cluster.local", port: 9000}
- name: b
  opentelemetry: {service: 10.0.0.5, port: 4317}
- name: c
  envoyExtAuthzHttp: {service: ext-authz.foo.svc.cluster.local, port: 8000, pathPrefix: /check}
`),
    noWarnings: true,
  },
];

runTable('MeshConfig', cases);
