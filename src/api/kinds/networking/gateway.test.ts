// Gateway validation table: servers, ports, hosts and TLS modes as Istio checks them.
import { runTable, type Case } from '../../test-util.js';

/** A Gateway document whose spec starts on line 6. */
const gw = (spec: string, name = 'httpbin-gateway'): string =>
  `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

const http80 = '  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["httpbin.example.com"]\n';

const cases: Case[] = [
  {
    name: 'httpbin gateway (Istio ingress task)',
    yaml: gw(`  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - httpbin.example.com
`),
  },
  {
    name: 'bookinfo gateway with "*" host (v1alpha3)',
    yaml: gw(
      '  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n',
    ).replace('/v1\n', '/v1alpha3\n'),
  },
  {
    name: 'secure ingress: HTTPS SIMPLE with credentialName and an httpsRedirect server',
    yaml: gw(`  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    tls:
      mode: SIMPLE
      credentialName: httpbin-credential
      minProtocolVersion: TLSV1_2
      maxProtocolVersion: TLSV1_3
    hosts: [httpbin.example.com]
  - port: {number: 80, name: http, protocol: HTTP}
    tls: {httpsRedirect: true}
    hosts: [httpbin.example.com]
`),
  },
  {
    name: 'MUTUAL with files, namespaced hosts, cipher suites',
    yaml: gw(`  servers:
  - port: {number: 443, name: https-mtls, protocol: HTTPS}
    hosts: ["./httpbin.example.com", "istio-system/*.example.org"]
    tls:
      mode: MUTUAL
      serverCertificate: /etc/certs/server.pem
      privateKey: /etc/certs/key.pem
      caCertificates: /etc/certs/ca.pem
      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]"]
`),
  },
  {
    name: 'TLS passthrough, TCP port, ISTIO_MUTUAL egress, unix bind',
    yaml: gw(`  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    tls: {mode: PASSTHROUGH}
    hosts: [nginx.example.com]
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 15443, name: tls-egress, protocol: TLS}
    tls: {mode: ISTIO_MUTUAL}
    hosts: [edition.cnn.com]
  - port: {name: uds, protocol: HTTP}
    bind: unix:///var/run/gateway.sock
    hosts: ["*"]
`),
  },
  {
    name: 'two credentials (RSA + ECDSA) with OPTIONAL_MUTUAL',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: OPTIONAL_MUTUAL, credentialNames: [rsa-cert, ecdsa-cert]}
`),
  },
  // ---- invalid ----
  {
    name: 'no servers',
    yaml: gw('  selector: {istio: ingressgateway}\n'),
    errors: [{ path: 'spec.servers', message: /is required/ }],
  },
  {
    name: 'server without hosts',
    yaml: gw('  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n'),
    errors: [{ path: 'spec.servers[0].hosts', message: /is required/ }],
  },
  {
    name: 'server without port',
    yaml: gw('  servers:\n  - hosts: ["*"]\n'),
    errors: [{ path: 'spec.servers[0].port', message: /is required/ }],
  },
  {
    name: 'unknown protocol',
    yaml: gw('  servers:\n  - port: {number: 80, name: http, protocol: HTTP3}\n    hosts: ["*"]\n'),
    errors: [{ path: 'spec.servers[0].port.protocol', message: /unsupported protocol "HTTP3"/, line: 7 }],
  },
  {
    name: 'port name missing',
    yaml: gw('  servers:\n  - port: {number: 80, protocol: HTTP}\n    hosts: ["*"]\n'),
    errors: [{ path: 'spec.servers[0].port.name', message: /is required/ }],
  },
  {
    name: 'port number out of range',
    yaml: gw('  servers:\n  - port: {number: 80000, name: http, protocol: HTTP}\n    hosts: ["*"]\n'),
    errors: [{ path: 'spec.servers[0].port.number', message: /between 1 and 65535/ }],
  },
  {
    name: 'duplicate port names',
    yaml: gw(`${http80.replace('  - port', '  servers:\n  - port')}  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: [other.example.com]
`),
    errors: [{ path: 'spec.servers[1].port.name', message: /port names in servers must be unique/ }],
  },
  {
    name: 'short host name',
    yaml: gw('  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [httpbin]\n'),
    errors: [{ path: 'spec.servers[0].hosts[0]', message: /short names \(non FQDN\) are not allowed/ }],
  },
  {
    name: 'partial wildcard host',
    yaml: gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*bin.example.com"]\n',
    ),
    errors: [{ path: 'spec.servers[0].hosts[0]', message: /partial wildcard/ }],
  },
  {
    name: 'host namespace "~" not allowed in Gateways',
    yaml: gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["~/foo.example.com"]\n',
    ),
    errors: [{ path: 'spec.servers[0].hosts[0]', message: /invalid namespace "~"/ }],
  },
  {
    name: 'HTTPS without tls',
    yaml: gw(
      '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n',
    ),
    errors: [{ path: 'spec.servers[0].tls', message: /is required for HTTPS servers/ }],
  },
  {
    name: 'SIMPLE without certificates',
    yaml: gw(
      '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: SIMPLE}\n',
    ),
    errors: [
      { path: 'spec.servers[0].tls.serverCertificate', message: /SIMPLE TLS requires serverCertificate/ },
      { path: 'spec.servers[0].tls.privateKey', message: /SIMPLE TLS requires privateKey/ },
    ],
  },
  {
    name: 'MUTUAL without CA bundle',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}
`),
    errors: [{ path: 'spec.servers[0].tls.caCertificates', message: /MUTUAL TLS requires caCertificates/ }],
  },
  {
    name: 'ISTIO_MUTUAL with a credential',
    yaml: gw(`  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: [a.example.com]
    tls: {mode: ISTIO_MUTUAL, credentialName: cert}
`),
    errors: [
      { path: 'spec.servers[0].tls.credentialName', message: /ISTIO_MUTUAL TLS cannot have credentialName/ },
    ],
  },
  {
    name: 'TLS terminated on a plain HTTP port',
    yaml: gw(`  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: cert}
`),
    errors: [{ path: 'spec.servers[0].tls', message: /can only have tls.httpsRedirect/ }],
  },
  {
    name: 'TLS settings on a TCP port',
    yaml: gw(`  servers:
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
    tls: {mode: PASSTHROUGH}
`),
    errors: [{ path: 'spec.servers[0].tls', message: /TCP servers cannot have TLS settings/ }],
  },
  {
    name: 'min TLS version above max',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}
`),
    errors: [{ path: 'spec.servers[0].tls.minProtocolVersion', message: /above maxProtocolVersion/ }],
  },
  {
    name: 'credentialName and credentialNames together',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a, credentialNames: [b]}
`),
    errors: [
      {
        path: 'spec.servers[0].tls.credentialNames',
        message: /only one of credentialName and credentialNames/,
      },
    ],
  },
  {
    name: 'caCrl with SIMPLE',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem, caCrl: /crl.pem}
`),
    errors: [{ path: 'spec.servers[0].tls.caCrl', message: /not supported with SIMPLE/ }],
  },
  {
    name: 'credentialName together with certificate files (one certificate source only, as Istio)',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-cert, serverCertificate: /c.pem, privateKey: /k.pem}
`),
    errors: [
      {
        path: 'spec.servers[0].tls',
        message: /only one certificate source.*credentialName and serverCertificate\/privateKey/,
      },
    ],
  },
  {
    name: 'caCrl alongside credentialName is allowed (the CRL applies with the secret)',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: MUTUAL, credentialName: a-cert, caCrl: /crl.pem}
`),
  },
  {
    name: 'ISTIO_MUTUAL with tlsCertificates',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: ISTIO_MUTUAL, tlsCertificates: [{serverCertificate: /c.pem, privateKey: /k.pem}]}
`),
    errors: [
      {
        path: 'spec.servers[0].tls.tlsCertificates',
        message: /ISTIO_MUTUAL TLS cannot have tlsCertificates/,
      },
    ],
  },
  {
    name: 'targetPort has no effect on Gateways',
    yaml: gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n    hosts: ["*"]\n',
    ),
    errors: [{ path: 'spec.servers[0].port.targetPort', message: /no effect on Gateways/ }],
  },
  {
    name: 'unix bind with a port number',
    yaml: gw(`  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    bind: unix:///var/run/gw.sock
    hosts: ["*"]
`),
    errors: [{ path: 'spec.servers[0].port.number', message: /must be 0 .* unix domain socket/ }],
  },
  {
    name: 'bind not an IP',
    yaml: gw(
      '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    bind: localhost\n    hosts: ["*"]\n',
    ),
    errors: [{ path: 'spec.servers[0].bind', message: /must be an IP address or unix:\/\/ path/ }],
  },
  {
    name: 'Gateway name with a dot',
    yaml: gw(http80.replace('  - port', '  servers:\n  - port'), 'my.gateway'),
    errors: [{ path: 'metadata.name', message: /Gateway names must be DNS labels/, line: 4 }],
  },
  {
    name: 'unknown TLS mode with suggestion',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLEE, credentialName: c}
`),
    errors: [{ path: 'spec.servers[0].tls.mode', message: /did you mean "SIMPLE"/ }],
  },
  // ---- warnings ----
  {
    name: 'old TLS version without ciphers, invalid cipher, and passthrough certificates warn',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_0}
  - port: {number: 8443, name: https-2, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: SIMPLE, credentialName: c, cipherSuites: [NOT-A-CIPHER]}
  - port: {number: 9443, name: tls, protocol: TLS}
    hosts: [c.example.com]
    tls: {mode: PASSTHROUGH, credentialName: c}
`),
    warnings: [
      { path: 'spec.servers[0].tls.minProtocolVersion', message: /below TLSV1_2/ },
      { path: 'spec.servers[1].tls.cipherSuites[0]', message: /ignoring invalid cipher suite/ },
      { path: 'spec.servers[2].tls', message: /PASSTHROUGH mode does not use certificates/ },
    ],
  },
  {
    name: 'OpenSSL cipher-list operations and ALL are accepted without warning, as Istio does',
    yaml: gw(`  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: c, cipherSuites: [ALL, -ECDHE-ECDSA-AES128-SHA, "!AES256-SHA", +ECDHE-RSA-AES128-SHA]}
`),
    noWarnings: true,
  },
];

runTable('Gateway', cases);
