// Valid and invalid AuthorizationPolicy documents.
import { runTable, type Case } from '../../test-util.js';

const ap = (spec: string, meta = '', version = 'v1'): string =>
  `apiVersion: security.istio.io/${version}\nkind: AuthorizationPolicy\nmetadata:\n  name: httpbin\n  namespace: foo\n${meta}spec:\n${spec}`;

/** One rule with the given YAML under `- ` (indented for spec.rules). */
const rule = (body: string, action = 'ALLOW'): string => ap(`  action: ${action}\n  rules:\n  - ${body}`);

const cases: Case[] = [
  {
    name: 'allow-nothing: an empty spec (Istio authorization tasks)',
    yaml: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: allow-nothing\n  namespace: default\nspec:\n  {}\n',
  },
  {
    name: 'allow-all: one empty rule',
    yaml: ap('  action: ALLOW\n  rules:\n  - {}\n'),
  },
  {
    name: 'productpage viewer from the HTTP traffic task',
    yaml: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: "productpage-viewer"
  namespace: default
spec:
  selector:
    matchLabels:
      app: productpage
  action: ALLOW
  rules:
  - to:
    - operation:
        methods: ["GET"]
`,
  },
  {
    name: 'reference example: principals, namespaces, methods, paths and a claim condition (v1beta1)',
    yaml: `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    - source:
        namespaces: ["test"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*"]
    - operation:
        methods: ["POST"]
        paths: ["/data"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`,
  },
  {
    name: 'require JWT at the ingress gateway',
    yaml: ap(
      '  selector:\n    matchLabels:\n      istio: ingressgateway\n  action: DENY\n  rules:\n  - from:\n    - source:\n        notRequestPrincipals: ["*"]\n',
    ),
  },
  {
    name: 'JWT groups claim with a nested claim name',
    yaml: rule(
      'from:\n    - source:\n        requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]\n    when:\n    - key: request.auth.claims[groups]\n      values: ["group1"]\n    - key: request.auth.claims[nested][key1]\n      values: ["valueC"]\n',
    ),
  },
  {
    name: 'TCP ports (tcp traffic task)',
    yaml: rule('to:\n    - operation:\n        ports: ["9000", "9001"]\n'),
  },
  {
    name: 'ingress IP allow list with remoteIpBlocks and ipBlocks',
    yaml: rule(
      'from:\n    - source:\n        ipBlocks: ["1.2.3.4", "5.6.7.0/24", "2001:db8::/32"]\n        remoteIpBlocks: ["10.0.0.0/8"]\n',
    ),
  },
  {
    name: 'every supported when key',
    yaml: rule(
      `when:
    - {key: "request.headers[User-Agent]", values: ["curl/*"]}
    - {key: source.ip, values: ["10.1.2.3", "10.2.0.0/16"]}
    - {key: remote.ip, notValues: ["10.0.0.1"]}
    - {key: source.namespace, values: [default]}
    - {key: source.principal, values: ["cluster.local/ns/default/sa/productpage"]}
    - {key: request.auth.principal, values: ["iss/sub"]}
    - {key: request.auth.audiences, values: ["aud"]}
    - {key: request.auth.presenter, values: ["app"]}
    - {key: "request.auth.claims[iss]", values: ["x"]}
    - {key: destination.ip, values: ["10.0.0.1"]}
    - {key: destination.port, values: ["80", "443"]}
    - {key: connection.sni, values: ["www.example.com"]}
    - {key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["[update]"]}
`,
    ),
  },
  {
    name: 'CUSTOM with an extension provider (ext-authz task)',
    yaml: ap(
      '  selector:\n    matchLabels:\n      app: httpbin\n  action: CUSTOM\n  provider:\n    name: sample-ext-authz-grpc\n  rules:\n  - to:\n    - operation:\n        paths: ["/headers"]\n',
    ),
  },
  {
    name: 'AUDIT with rules',
    yaml: ap('  action: AUDIT\n  rules:\n  - to:\n    - operation:\n        methods: ["POST"]\n'),
  },
  {
    name: 'dry-run DENY policy',
    yaml: ap(
      '  action: DENY\n  rules:\n  - to:\n    - operation:\n        ports: ["8080"]\n',
      '  annotations:\n    istio.io/dry-run: "true"\n',
    ),
  },
  {
    name: 'path templates',
    yaml: rule('to:\n    - operation:\n        paths: ["/foo/{*}/bar", "/api/{**}"]\n'),
  },
  {
    name: 'targetRef to a waypoint Gateway',
    yaml: ap(
      '  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n  rules:\n  - to:\n    - operation:\n        methods: ["GET"]\n',
    ),
  },
  {
    name: 'serviceAccounts (Istio 1.24+)',
    yaml: rule('from:\n    - source:\n        serviceAccounts: ["default/sleep", "curl"]\n'),
  },
  {
    name: 'empty source',
    yaml: rule('from:\n    - source: {}\n'),
    errors: [{ path: 'spec.rules[0].from[0].source', message: /must not be empty/ }],
  },
  {
    name: 'from entry without source',
    yaml: rule('from:\n    - {}\n'),
    errors: [{ path: 'spec.rules[0].from[0].source', message: /is required/ }],
  },
  {
    name: 'empty operation',
    yaml: rule('to:\n    - operation: {}\n'),
    errors: [{ path: 'spec.rules[0].to[0].operation', message: /must not be empty/ }],
  },
  {
    name: 'empty from list',
    yaml: rule('from: []\n'),
    errors: [{ path: 'spec.rules[0].from', message: /must not be empty/ }],
  },
  {
    name: 'empty to list',
    yaml: rule('to: []\n'),
    errors: [{ path: 'spec.rules[0].to', message: /must not be empty/ }],
  },
  {
    name: 'port out of range',
    yaml: rule('to:\n    - operation:\n        ports: ["70000"]\n'),
    errors: [{ path: 'spec.rules[0].to[0].operation.ports[0]', message: /between 1 and 65535/ }],
  },
  {
    name: 'port that is a name',
    yaml: rule('to:\n    - operation:\n        notPorts: ["http"]\n'),
    errors: [{ path: 'spec.rules[0].to[0].operation.notPorts[0]', message: /port number/ }],
  },
  {
    name: 'port written as a YAML number',
    yaml: rule('to:\n    - operation:\n        ports: [8080]\n'),
    errors: [
      { path: 'spec.rules[0].to[0].operation.ports[0]', message: /must be a string, got number 8080/ },
    ],
  },
  {
    name: 'bad CIDR',
    yaml: rule('from:\n    - source:\n        ipBlocks: ["10.0.0.0/33"]\n'),
    errors: [{ path: 'spec.rules[0].from[0].source.ipBlocks[0]', message: /IP address or CIDR/ }],
  },
  {
    name: 'empty principal',
    yaml: rule('from:\n    - source:\n        principals: [""]\n'),
    errors: [{ path: 'spec.rules[0].from[0].source.principals[0]', message: /must not be empty/ }],
  },
  {
    name: 'unknown when key with a suggestion',
    yaml: rule('when:\n    - key: request.header[version]\n      values: ["v1"]\n'),
    errors: [
      {
        path: 'spec.rules[0].when[0].key',
        message: /unknown attribute "request.header\[version\]"; did you mean "request.headers\[version\]"/,
      },
    ],
  },
  {
    name: 'unknown when key lists the supported ones',
    yaml: rule('when:\n    - key: peer.identity\n      values: ["x"]\n'),
    errors: [{ path: 'spec.rules[0].when[0].key', message: /unknown attribute.*supported keys: source.ip/ }],
  },
  {
    name: 'header key without a name',
    yaml: rule('when:\n    - key: request.headers[]\n      values: ["x"]\n'),
    errors: [
      { path: 'spec.rules[0].when[0].key', message: /should have the form request.headers\[<name>\]/ },
    ],
  },
  {
    name: 'destination.labels is replaced by the selector',
    yaml: rule('when:\n    - key: destination.labels[app]\n      values: ["x"]\n'),
    errors: [{ path: 'spec.rules[0].when[0].key', message: /replaced by the workload selector/ }],
  },
  {
    name: 'when without values or notValues',
    yaml: rule('when:\n    - key: source.namespace\n'),
    errors: [{ path: 'spec.rules[0].when[0].values', message: /at least one of values or notValues/ }],
  },
  {
    name: 'when without a key',
    yaml: rule('when:\n    - values: ["x"]\n'),
    errors: [{ path: 'spec.rules[0].when[0].key', message: /is required/ }],
  },
  {
    name: 'source.ip value that is not an IP',
    yaml: rule('when:\n    - key: source.ip\n      values: ["10.0.0.300"]\n'),
    errors: [{ path: 'spec.rules[0].when[0].values[0]', message: /IP addresses or CIDR/ }],
  },
  {
    name: 'destination.port value that is not a port',
    yaml: rule('when:\n    - key: destination.port\n      notValues: ["http"]\n'),
    errors: [{ path: 'spec.rules[0].when[0].notValues[0]', message: /port numbers/ }],
  },
  {
    name: 'unknown action',
    yaml: ap('  action: REJECT\n  rules:\n  - {}\n'),
    errors: [{ path: 'spec.action', message: /must be one of ALLOW, DENY, AUDIT, CUSTOM/ }],
  },
  {
    name: 'DENY without rules',
    yaml: ap('  action: DENY\n'),
    errors: [{ path: 'spec.rules', message: /DENY action without rules/ }],
  },
  {
    name: 'CUSTOM without a provider',
    yaml: ap('  action: CUSTOM\n  rules:\n  - {}\n'),
    errors: [{ path: 'spec.provider', message: /is required with action CUSTOM/ }],
  },
  {
    name: 'CUSTOM without rules',
    yaml: ap('  action: CUSTOM\n  provider:\n    name: ext\n'),
    errors: [{ path: 'spec.rules', message: /CUSTOM action without rules/ }],
  },
  {
    name: 'CUSTOM with principals and a request.auth condition',
    yaml: ap(
      '  action: CUSTOM\n  provider:\n    name: ext\n  rules:\n  - from:\n    - source:\n        principals: ["a"]\n    when:\n    - key: request.auth.claims[iss]\n      values: ["x"]\n',
    ),
    errors: [
      { path: 'spec.rules[0].from[0].source.principals', message: /not supported with action CUSTOM/ },
      {
        path: 'spec.rules[0].when[0].key',
        message: /request.auth.claims\[iss\] is not supported with action CUSTOM/,
      },
    ],
  },
  {
    name: 'provider with ALLOW',
    yaml: ap('  provider:\n    name: ext\n  rules:\n  - {}\n'),
    errors: [{ path: 'spec.provider', message: /must only be set with action CUSTOM, got action ALLOW/ }],
  },
  {
    name: 'provider with AUDIT',
    yaml: ap('  action: AUDIT\n  provider:\n    name: ext\n  rules:\n  - {}\n'),
    errors: [{ path: 'spec.provider', message: /must only be set with action CUSTOM, got action AUDIT/ }],
  },
  {
    name: 'dry-run on an AUDIT policy',
    yaml: ap('  action: AUDIT\n  rules:\n  - {}\n', '  annotations:\n    istio.io/dry-run: "true"\n'),
    errors: [
      { path: 'metadata.annotations["istio.io/dry-run"]', message: /only works with action ALLOW or DENY/ },
    ],
  },
  {
    name: 'dry-run value that is not a boolean',
    yaml: ap('  rules:\n  - {}\n', '  annotations:\n    istio.io/dry-run: "yes"\n'),
    errors: [{ path: 'metadata.annotations["istio.io/dry-run"]', message: /must be "true" or "false"/ }],
  },
  ...[
    ['/foo/{bar}/{*}', /"\{bar\}" has "\{" or "\}"/],
    ['/foo/{**}buzz/bar', /"\{\*\*\}buzz" has/],
    ['/{*}/foo/{}/bar', /"\{\}" has/],
    ['/foo/{*}/bar/*', /"\*" is not a literal/],
    ['/foo/{*}/bar/**/buzz', /"\*\*" is not a literal/],
    ['/{buzz}', /"\{buzz\}" has/],
    ['/foo/{buzz=*}/bar/{**}', /"\{buzz=\*\}" has/],
    ['/{*}/foo/{*}.txt', /"\{\*\}.txt" has/],
    ['/{*}/foo/{temp', /"\{temp" has/],
    ['/{*}/foo/temp}/bar', /"temp\}" has/],
    ['/{**}/foo/temp/{*}/bar', /\{\*\*\} must be the last segment/],
    ['/{**}/{**}', /\{\*\*\} must be the last segment/],
    ['/foo/{**}/bar', /\{\*\*\} must be the last segment/],
    ['/{*}/foo/?abc', /"\?abc" is not a literal/],
    ['/{*}//foo', /"" is not a literal/],
  ].map(([p, msg]) => ({
    name: `unsupported path template ${p as string}`,
    yaml: rule(`to:\n    - operation:\n        notPaths: ["/ok", "${p as string}"]\n`),
    errors: [{ path: 'spec.rules[0].to[0].operation.notPaths[1]', message: msg as RegExp, line: 11 }],
  })),
  ...['/{*}/foo', '/{*}/foo/', '/foo/bar/{**}', '/{**}', "/a-b._~%20!$&'()+,;:@=/{*}", '/foo/*', '*/bar'].map(
    (p) => ({
      name: `valid path or path template ${p}`,
      yaml: rule(`to:\n    - operation:\n        paths: ["${p}"]\n`),
    }),
  ),
  {
    name: 'selector and targetRef together',
    yaml: ap(
      '  selector:\n    matchLabels:\n      app: a\n  targetRef:\n    kind: Service\n    name: a\n  rules:\n  - {}\n',
    ),
    errors: [{ path: 'spec.targetRef', message: /only one of selector, targetRef or targetRefs/ }],
  },
  {
    name: 'serviceAccounts with a wildcard',
    yaml: rule('from:\n    - source:\n        serviceAccounts: ["default/*"]\n'),
    errors: [{ path: 'spec.rules[0].from[0].source.serviceAccounts[0]', message: /without wildcards/ }],
  },
  {
    name: 'serviceAccounts combined with principals',
    yaml: rule(
      'from:\n    - source:\n        serviceAccounts: ["default/sleep"]\n        principals: ["x"]\n',
    ),
    errors: [{ path: 'spec.rules[0].from[0].source', message: /cannot be combined with principals/ }],
  },
  {
    name: 'misspelt source field',
    yaml: rule('from:\n    - source:\n        principal: ["a"]\n'),
    errors: [{ path: 'spec.rules[0].from[0].source.principal', message: /did you mean "principals"/ }],
  },
  {
    name: 'rules given as an object',
    yaml: ap('  rules:\n    to: []\n'),
    errors: [{ path: 'spec.rules', message: /must be a list/ }],
  },
  {
    name: 'DENY rule with only HTTP fields warns about TCP ports',
    yaml: rule('to:\n    - operation:\n        methods: ["GET"]\n', 'DENY'),
    warnings: [{ path: 'spec.rules[0]', message: /denies all traffic to TCP ports/ }],
  },
  {
    name: 'a Service targetRef applies only on waypoints: warned as not enforced',
    yaml: ap('  targetRefs:\n  - kind: Service\n    group: ""\n    name: httpbin\n  rules:\n  - {}\n'),
    warnings: [{ path: 'spec.targetRefs', message: /only on waypoint proxies.*not enforced/ }],
  },
];

runTable('AuthorizationPolicy', cases);
