// Sidecar validation table: ingress/egress listeners, hosts, defaultEndpoint forms, outbound policy.
import { runTable, type Case } from '../../test-util.js';

/** A Sidecar document whose spec starts on line 7. */
const sc = (spec: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: bookinfo\nspec:\n${spec}`;

const cases: Case[] = [
  {
    name: 'namespace default: egress to own namespace and istio-system',
    yaml: sc(`  egress:
  - hosts:
    - "./*"
    - "istio-system/*"
`),
  },
  {
    name: 'ingress with defaultEndpoint, egress on a port, REGISTRY_ONLY',
    yaml: sc(`  workloadSelector:
    labels: {app: ratings}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: somename}
    defaultEndpoint: 127.0.0.1:8080
    captureMode: NONE
  - port: {number: 9081, protocol: HTTP, name: other}
    defaultEndpoint: "[::1]:8081"
  egress:
  - port: {number: 9080, protocol: HTTP, name: egresshttp}
    hosts: ["prod-us1/*"]
  - hosts: ["istio-system/*"]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`),
  },
  {
    name: 'unix socket listeners, ingress TLS with files, egressProxy with ALLOW_ANY',
    yaml: sc(`  ingress:
  - port: {number: 9080, protocol: HTTPS, name: https}
    defaultEndpoint: unix:///var/run/someuds.sock
    tls:
      mode: SIMPLE
      serverCertificate: /etc/istio/ingress-certs/cert.pem
      privateKey: /etc/istio/ingress-certs/key.pem
  egress:
  - port: {number: 0, protocol: HTTP, name: uds}
    bind: unix:///var/run/app.sock
    captureMode: NONE
    hosts: ["*/*.example.com"]
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy: {host: egress.example.com, subset: v1, port: {number: 3128}}
`),
    warnings: [{ path: 'spec.outboundTrafficPolicy.egressProxy', message: /not enforced by Mizzen/ }],
  },
  {
    name: 'inbound connection pool only',
    yaml: sc('  inboundConnectionPool:\n    http: {http1MaxPendingRequests: 1024, idleTimeout: 30s}\n'),
  },
  // ---- invalid ----
  {
    name: 'empty Sidecar',
    yaml: sc('  workloadSelector: {labels: {app: a}}\n'),
    errors: [{ path: 'spec', message: /empty Sidecar/ }],
  },
  {
    name: 'egress host without namespace',
    yaml: sc('  egress:\n  - hosts: [reviews.default.svc.cluster.local]\n'),
    errors: [{ path: 'spec.egress[0].hosts[0]', message: /namespace\/dnsName/, line: 8 }],
  },
  {
    name: 'egress short host name',
    yaml: sc('  egress:\n  - hosts: [default/reviews]\n'),
    errors: [{ path: 'spec.egress[0].hosts[0]', message: /short names/ }],
  },
  {
    name: 'egress listener without hosts',
    yaml: sc('  egress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n'),
    errors: [{ path: 'spec.egress[0].hosts', message: /is required/ }],
  },
  {
    name: 'catch-all egress listener not last',
    yaml: sc(`  egress:
  - hosts: ["./*"]
  - port: {number: 9080, protocol: HTTP, name: http}
    hosts: ["./*"]
`),
    errors: [{ path: 'spec.egress[0]', message: /without port must be the last one/ }],
  },
  {
    name: 'two egress listeners on one port',
    yaml: sc(`  egress:
  - port: {number: 9080, protocol: HTTP, name: a}
    hosts: ["./*"]
  - port: {number: 9080, protocol: HTTP, name: b}
    hosts: ["./*"]
`),
    errors: [{ path: 'spec.egress[1].port', message: /egress port 9080 is used twice/ }],
  },
  {
    name: 'egress port 0 without a unix bind',
    yaml: sc('  egress:\n  - port: {number: 0, protocol: HTTP, name: uds}\n    hosts: ["./*"]\n'),
    errors: [{ path: 'spec.egress[0].bind', message: /needs a unix:\/\/ bind/ }],
  },
  ...(['HTTP', 'TCP', 'GRPC', undefined] as const).map((proto) => ({
    name: `ingress TLS on a ${proto ?? 'protocol-less'} port`,
    yaml: sc(`  ingress:
  - port: {number: 9080, name: p${proto ? `, protocol: ${proto}` : ''}}
    defaultEndpoint: 127.0.0.1:8080
    tls:
      mode: SIMPLE
      serverCertificate: /etc/certs/cert.pem
      privateKey: /etc/certs/key.pem
`),
    errors: [{ path: 'spec.ingress[0].tls', message: /need an HTTPS or TLS port/, line: 11 }],
  })),
  {
    name: 'ingress TLS on a tls port (protocol names are case-insensitive)',
    yaml: sc(`  ingress:
  - port: {number: 9443, name: tls, protocol: tls}
    defaultEndpoint: 127.0.0.1:8443
    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem}
`),
  },
  {
    name: 'ingress TLS with credentialNames',
    yaml: sc(`  ingress:
  - port: {number: 9443, name: https, protocol: HTTPS}
    defaultEndpoint: 127.0.0.1:8443
    tls:
      mode: SIMPLE
      credentialNames: [a, b]
`),
    errors: [
      { path: 'spec.ingress[0].tls.credentialNames', message: /not supported in Sidecar ingress tls/ },
    ],
  },
  {
    name: 'ingress TLS with tlsCertificates',
    yaml: sc(`  ingress:
  - port: {number: 9443, name: https, protocol: HTTPS}
    defaultEndpoint: 127.0.0.1:8443
    tls:
      mode: SIMPLE
      tlsCertificates: [{serverCertificate: /c.pem, privateKey: /k.pem}]
`),
    errors: [
      { path: 'spec.ingress[0].tls.tlsCertificates', message: /not supported in Sidecar ingress tls/ },
    ],
  },
  {
    name: 'ingress without port',
    yaml: sc('  ingress:\n  - defaultEndpoint: 127.0.0.1:8080\n'),
    errors: [{ path: 'spec.ingress[0].port', message: /is required/ }],
  },
  {
    name: 'ingress defaultEndpoint on another host',
    yaml: sc(
      '  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: 10.0.0.1:8080\n',
    ),
    errors: [{ path: 'spec.ingress[0].defaultEndpoint', message: /must be 127.0.0.1:<port>/, line: 9 }],
  },
  {
    name: 'ingress defaultEndpoint port not a number',
    yaml: sc(
      '  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: "127.0.0.1:http"\n',
    ),
    errors: [{ path: 'spec.ingress[0].defaultEndpoint', message: /port "http" is not a number/ }],
  },
  {
    name: 'ingress defaultEndpoint relative unix path',
    yaml: sc(
      '  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: unix://app.sock\n',
    ),
    errors: [{ path: 'spec.ingress[0].defaultEndpoint', message: /not an absolute path/ }],
  },
  {
    name: 'duplicate ingress ports',
    yaml: sc(`  ingress:
  - port: {number: 9080, protocol: HTTP, name: a}
  - port: {number: 9080, protocol: HTTP, name: b}
`),
    errors: [{ path: 'spec.ingress[1].port', message: /used twice/ }],
  },
  {
    name: 'ingress TLS with credentialName',
    yaml: sc(`  ingress:
  - port: {number: 9443, protocol: HTTPS, name: https}
    tls: {mode: SIMPLE, credentialName: cert}
`),
    errors: [{ path: 'spec.ingress[0].tls.credentialName', message: /not supported in Sidecar ingress tls/ }],
  },
  {
    name: 'ingress TLS with ISTIO_MUTUAL',
    yaml: sc(`  ingress:
  - port: {number: 9443, protocol: HTTPS, name: https}
    tls: {mode: ISTIO_MUTUAL}
`),
    errors: [{ path: 'spec.ingress[0].tls.mode', message: /ISTIO_MUTUAL cannot be used/ }],
  },
  {
    name: 'egressProxy with REGISTRY_ONLY',
    yaml: sc(
      '  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n    egressProxy: {host: proxy.example.com, port: {number: 3128}}\n',
    ),
    errors: [{ path: 'spec.outboundTrafficPolicy.egressProxy', message: /only be set with mode ALLOW_ANY/ }],
  },
  {
    name: 'egressProxy without port',
    yaml: sc('  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy: {host: proxy.example.com}\n'),
    errors: [{ path: 'spec.outboundTrafficPolicy.egressProxy.port', message: /is required/ }],
  },
  {
    name: 'unknown outbound mode',
    yaml: sc('  outboundTrafficPolicy: {mode: ALLOW_ALL}\n'),
    errors: [{ path: 'spec.outboundTrafficPolicy.mode', message: /did you mean "ALLOW_ANY"/ }],
  },
  {
    name: 'targetPort has no effect on Sidecars',
    yaml: sc('  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http, targetPort: 8080}\n'),
    errors: [{ path: 'spec.ingress[0].port.targetPort', message: /no effect on Sidecars/, line: 8 }],
  },
  {
    name: 'egress bind not an IP',
    yaml: sc(
      '  egress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    bind: localhost\n    hosts: ["./*"]\n',
    ),
    errors: [{ path: 'spec.egress[0].bind', message: /bind must be an IP address/ }],
  },
  // ---- warnings ----
  {
    name: 'duplicate egress hosts and "*/*" with others warn',
    yaml: sc('  egress:\n  - hosts: ["*/*", "./*", "./*"]\n'),
    warnings: [
      { path: 'spec.egress[0].hosts[2]', message: /duplicated egress host/ },
      { path: 'spec.egress[0].hosts', message: /"\*\/\*" selects every host/ },
    ],
  },
  {
    name: 'HTTP pool on a TCP ingress port warns',
    yaml: sc(`  ingress:
  - port: {number: 3306, protocol: TCP, name: mysql}
    connectionPool: {http: {http2MaxRequests: 10}}
`),
    warnings: [{ path: 'spec.ingress[0].connectionPool.http', message: /no effect on port 3306/ }],
  },
  {
    name: 'selector without labels warns',
    yaml: sc('  workloadSelector: {}\n  egress:\n  - hosts: ["./*"]\n'),
    warnings: [{ path: 'spec.workloadSelector', message: /applies to every workload/ }],
  },
  {
    name: 'excluding a namespace with "~ns/*" (newest Istio) is refused as not supported, not misread',
    yaml: sc('  egress:\n  - hosts: ["*/*", "~kube-system/*"]\n'),
    errors: [
      {
        path: 'spec.egress[0].hosts[1]',
        message: /excluding hosts with "~kube-system\/\.\.\." is not supported/,
      },
    ],
  },
  {
    name: '"~/*" still imports nothing',
    yaml: sc('  egress:\n  - hosts: ["~/*"]\n'),
  },
];

runTable('Sidecar', cases);
