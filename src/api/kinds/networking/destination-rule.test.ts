// DestinationRule validation table: subsets, load balancing, pools, outlier detection and TLS as Istio checks them.
import { runTable, type Case } from '../../test-util.js';

/** A DestinationRule document whose spec starts on line 7. */
const dr = (spec: string, version = 'v1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: DestinationRule\nmetadata:\n  name: reviews\n  namespace: default\nspec:\n${spec}`;

const cases: Case[] = [
  {
    name: 'bookinfo destination-rule-all (reviews subsets)',
    yaml: dr(`  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
  - name: v3
    labels: {version: v3}
`),
  },
  {
    name: 'httpbin circuit breaker (v1beta1)',
    yaml: dr(
      `  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`,
      'v1beta1',
    ),
  },
  {
    name: 'consistent hash on a cookie with ring hash, port-level LB, mutual TLS with files',
    yaml: dr(`  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: user, ttl: 0s}
        ringHash: {minimumRingSize: 2048}
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {simple: LEAST_REQUEST}
    - port: {number: 9080}
      loadBalancer: {simple: ROUND_ROBIN}
    tls:
      mode: MUTUAL
      clientCertificate: /etc/certs/myclientcert.pem
      privateKey: /etc/certs/client_private_key.pem
      caCertificates: /etc/certs/rootcacerts.pem
`),
  },
  {
    name: 'maglev, locality failover with outlier detection, SIMPLE TLS by credential, tunnel',
    yaml: dr(`  host: "*.example.com"
  trafficPolicy:
    loadBalancer:
      consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}
      localityLbSetting:
        enabled: true
        failover: [{from: us-east, to: eu-west}]
    outlierDetection: {consecutiveGatewayErrors: 5, interval: 10s}
    tls: {mode: SIMPLE, credentialName: client-credential, sni: my-nginx.mesh-external.svc.cluster.local}
    tunnel: {protocol: CONNECT, targetHost: 10.0.0.1, targetPort: 8443}
`),
  },
  {
    name: 'locality distribute weights summing to 100, warmup, ISTIO_MUTUAL',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      warmupDurationSecs: 60s
      localityLbSetting:
        distribute:
        - from: us-west/zone1/*
          to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}
    tls: {mode: ISTIO_MUTUAL}
    connectionPool:
      http: {h2UpgradePolicy: UPGRADE, idleTimeout: 1h}
      tcp: {tcpKeepalive: {time: 7200s, interval: 75s, probes: 9}}
`),
    // Node sets only the keepalive idle time: the other two are accepted and warned about, not ignored.
    warnings: [
      {
        path: 'spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.probes',
        message: /probes is not enforced/,
      },
      {
        path: 'spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.interval',
        message: /interval is not enforced/,
      },
    ],
  },
  {
    name: 'workloadSelector rule exported to its own namespace',
    yaml: dr(`  host: reviews
  workloadSelector: {matchLabels: {app: productpage}}
  exportTo: ["."]
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
`),
  },
  // ---- invalid ----
  {
    name: 'tcp idleTimeout 0s is allowed (turns it off), http idleTimeout 0s is not',
    yaml: dr(`  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: {idleTimeout: 0s}
      http: {idleTimeout: 0s}
`),
    errors: [{ path: 'spec.trafficPolicy.connectionPool.http.idleTimeout', message: /at least 1ms/ }],
  },
  {
    name: 'host missing',
    yaml: dr('  subsets: [{name: v1, labels: {version: v1}}]\n'),
    errors: [{ path: 'spec.host', message: /is required/ }],
  },
  {
    name: 'host not a DNS name',
    yaml: dr('  host: "reviews..default"\n'),
    errors: [{ path: 'spec.host', message: /label "" invalid/, line: 7 }],
  },
  {
    name: 'duplicate subset names',
    yaml: dr(
      '  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v1\n    labels: {version: v2}\n',
    ),
    errors: [{ path: 'spec.subsets[1].name', message: /duplicate subset name "v1"/, line: 11 }],
  },
  {
    name: 'subset without name',
    yaml: dr('  host: reviews\n  subsets:\n  - labels: {version: v1}\n'),
    errors: [{ path: 'spec.subsets[0].name', message: /is required/ }],
  },
  {
    name: 'subset label value invalid',
    yaml: dr('  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: "v 1"}\n'),
    errors: [{ path: 'spec.subsets[0].labels.version', message: /invalid label value/ }],
  },
  {
    name: 'empty traffic policy',
    yaml: dr('  host: reviews\n  trafficPolicy: {}\n'),
    errors: [{ path: 'spec.trafficPolicy', message: /at least one field/ }],
  },
  {
    name: 'simple and consistentHash together',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}\n',
    ),
    errors: [{ path: 'spec.trafficPolicy.loadBalancer', message: /only one of simple, consistentHash/ }],
  },
  {
    name: 'unknown simple LB with suggestion',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: ROUND_ROBBIN}\n'),
    errors: [
      { path: 'spec.trafficPolicy.loadBalancer.simple', message: /did you mean "ROUND_ROBIN"/, line: 9 },
    ],
  },
  {
    name: 'consistent hash with two keys',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpHeaderName: x-user, useSourceIp: true}\n',
    ),
    errors: [
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash', message: /only one of httpHeaderName/ },
    ],
  },
  {
    name: 'consistent hash with no key',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {ringHash: {minimumRingSize: 1024}}\n',
    ),
    errors: [
      {
        path: 'spec.trafficPolicy.loadBalancer.consistentHash',
        message: /one of httpHeaderName.* must be set/,
      },
    ],
  },
  {
    name: 'cookie without name',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpCookie: {ttl: 10s}}\n',
    ),
    errors: [
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name', message: /is required/ },
    ],
  },
  {
    name: 'maglev table size not prime',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, maglev: {tableSize: 1000}}\n',
    ),
    errors: [
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', message: /prime number/ },
    ],
  },
  {
    name: 'deprecated minimumRingSize with ringHash',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, minimumRingSize: 1024, ringHash: {minimumRingSize: 1024}}\n',
    ),
    errors: [
      {
        path: 'spec.trafficPolicy.loadBalancer.consistentHash',
        message: /only one of ringHash, maglev, minimumRingSize/,
      },
    ],
    warnings: [
      { path: 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', message: /deprecated/ },
    ],
  },
  {
    name: 'locality distribute weights not summing to 100',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        distribute: [{from: us-west/*, to: {"us-west/*": 50, "us-east/*": 30}}]
`),
    errors: [
      {
        path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to',
        message: /sum to 100, got 80/,
      },
    ],
  },
  {
    name: 'locality distribute and failover together',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        distribute: [{from: us-west/*, to: {"us-west/*": 100}}]
        failover: [{from: us-west, to: us-east}]
`),
    errors: [
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting', message: /'distribute' and 'failover'/ },
    ],
  },
  {
    name: 'locality failover to the same region',
    yaml: dr(`  host: reviews
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3}
    loadBalancer:
      localityLbSetting:
        failover: [{from: us-west, to: us-west}]
`),
    errors: [
      { path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]', message: /different regions/ },
    ],
  },
  {
    name: 'maxEjectionPercent above 100',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 120}\n'),
    errors: [
      { path: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent', message: /between 0 and 100/ },
    ],
  },
  {
    name: 'local origin failures without split errors',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    outlierDetection: {consecutiveLocalOriginFailures: 3}\n',
    ),
    errors: [
      {
        path: 'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures',
        message: /splitExternalLocalOriginErrors/,
      },
    ],
  },
  {
    name: 'baseEjectionTime zero',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    outlierDetection: {baseEjectionTime: 0s}\n'),
    errors: [{ path: 'spec.trafficPolicy.outlierDetection.baseEjectionTime', message: /at least 1ms/ }],
  },
  {
    name: 'negative maxConnections',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: -1}\n'),
    errors: [{ path: 'spec.trafficPolicy.connectionPool.tcp.maxConnections', message: /integer between 0/ }],
  },
  {
    name: 'empty connection pool',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    connectionPool: {}\n'),
    errors: [{ path: 'spec.trafficPolicy.connectionPool', message: /at least one of tcp, http/ }],
  },
  {
    name: 'useClientProtocol with UPGRADE',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}\n',
    ),
    errors: [{ path: 'spec.trafficPolicy.connectionPool.http.useClientProtocol', message: /UPGRADE/ }],
  },
  {
    name: 'MUTUAL TLS without client certificate',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    tls: {mode: MUTUAL, caCertificates: /etc/ca.pem}\n'),
    errors: [
      { path: 'spec.trafficPolicy.tls.clientCertificate', message: /MUTUAL TLS requires clientCertificate/ },
      { path: 'spec.trafficPolicy.tls.privateKey', message: /MUTUAL TLS requires privateKey/ },
    ],
  },
  {
    name: 'credentialName with certificate files',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    tls: {mode: SIMPLE, credentialName: c, caCertificates: /etc/ca.pem}\n',
    ),
    errors: [{ path: 'spec.trafficPolicy.tls', message: /when credentialName is set/ }],
  },
  {
    name: 'insecureSkipVerify with caCertificates',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /etc/ca.pem}\n',
    ),
    errors: [{ path: 'spec.trafficPolicy.tls', message: /insecureSkipVerify is true/ }],
  },
  {
    name: 'TLS mode unknown',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    tls: {mode: STRICT}\n'),
    errors: [
      {
        path: 'spec.trafficPolicy.tls.mode',
        message: /must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL/,
      },
    ],
  },
  {
    name: 'port-level setting without port',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - loadBalancer: {simple: RANDOM}\n',
    ),
    errors: [{ path: 'spec.trafficPolicy.portLevelSettings[0].port', message: /is required/, line: 10 }],
  },
  {
    name: 'port-level settings for the same port twice',
    yaml: dr(`  host: reviews
  trafficPolicy:
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {simple: RANDOM}
    - port: {number: 80}
      tls: {mode: ISTIO_MUTUAL}
`),
    errors: [{ path: 'spec.trafficPolicy.portLevelSettings[1]', message: /duplicate port 80/ }],
  },
  {
    name: 'port-level setting with only a port',
    yaml: dr('  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n'),
    errors: [{ path: 'spec.trafficPolicy.portLevelSettings[0]', message: /at least one of loadBalancer/ }],
  },
  {
    name: 'tunnel with proxyProtocol',
    yaml: dr(`  host: reviews
  trafficPolicy:
    tunnel: {targetHost: proxy.example.com, targetPort: 3128}
    proxyProtocol: {version: V2}
`),
    errors: [{ path: 'spec.trafficPolicy.proxyProtocol', message: /must not be set together/ }],
  },
  {
    name: 'tunnel protocol and target port invalid',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    tunnel: {protocol: GET, targetHost: proxy, targetPort: 0}\n',
    ),
    errors: [{ path: 'spec.trafficPolicy.tunnel.protocol', message: /"CONNECT" or "POST"/ }],
  },
  {
    name: 'workloadSelector rule exported to all namespaces',
    yaml: dr(`  host: reviews
  workloadSelector: {matchLabels: {app: productpage}}
  exportTo: ["*"]
`),
    errors: [{ path: 'spec.exportTo', message: /only be exported to its own namespace/ }],
  },
  {
    name: 'exportTo "." and the own namespace',
    yaml: dr('  host: reviews\n  exportTo: [".", default]\n'),
    errors: [{ path: 'spec.exportTo[1]', message: /duplicate entries in exportTo/ }],
  },
  {
    name: 'wildcard in selector is not a label value',
    yaml: dr('  host: reviews\n  workloadSelector: {matchLabels: {app: "*"}}\n'),
    errors: [{ path: 'spec.workloadSelector.matchLabels.app', message: /invalid label value "\*"/ }],
  },
  // ---- warnings ----
  {
    name: 'deprecated consecutiveErrors and LEAST_CONN warn',
    yaml: dr(
      '  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: LEAST_CONN}\n    outlierDetection: {consecutiveErrors: 5}\n',
    ),
    warnings: [
      {
        path: 'spec.trafficPolicy.outlierDetection.consecutiveErrors',
        message: /deprecated: use consecutiveGatewayErrors/,
      },
      { path: 'spec.trafficPolicy.loadBalancer.simple', message: /LEAST_CONN is deprecated/ },
    ],
  },
  {
    name: 'failover without outlier detection warns',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        failover: [{from: us-west, to: us-east}]
`),
    warnings: [{ path: 'spec.trafficPolicy.loadBalancer', message: /needs outlierDetection/ }],
  },
  {
    name: 'cookie attributes: duplicate names are refused; attributes warn as not enforced',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          ttl: 0s
          attributes: [{name: SameSite, value: Lax}, {name: SameSite, value: Strict}]
`),
    errors: [
      {
        path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name',
        message: /duplicate cookie attribute name: SameSite/,
      },
    ],
  },
  {
    name: 'cookie attributes are accepted with a not-enforced warning',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: user, ttl: 0s, attributes: [{name: SameSite, value: Lax}, {name: Secure}]}
`),
    warnings: [
      {
        path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes',
        message: /not enforced by Mizzen/,
      },
    ],
  },
  {
    name: 'warmup aggression below 1 is valid (Envoy and Istio want only > 0)',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s, aggression: 0.5}}
`),
  },
  {
    name: 'warmup aggression 0 is refused',
    yaml: dr(`  host: reviews
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s, aggression: 0}}
`),
    errors: [{ path: 'spec.trafficPolicy.loadBalancer.warmup.aggression', message: /greater than 0/ }],
  },
  {
    name: 'a configmap:// credential is refused: Mizzen reads only Secrets',
    yaml: dr(`  host: reviews
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: "configmap://default/ca-bundle"}
`),
    errors: [
      {
        path: 'spec.trafficPolicy.tls.credentialName',
        message: /configmap:\/\/ credentials are not supported/,
        line: 9,
      },
    ],
  },
];

runTable('DestinationRule', cases);
