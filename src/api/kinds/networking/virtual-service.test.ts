// VirtualService validation table: Istio task YAMLs load clean; each broken rule is reported at its field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTable, load, type Case } from '../../test-util.js';
import type { VirtualService } from './virtual-service.js';

/** A VirtualService document whose spec starts on line 6. */
const vs = (spec: string, version = 'v1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n${spec}`;

const cases: Case[] = [
  {
    name: 'bookinfo virtual-service-reviews-test-v2',
    yaml: vs(`  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v1
`),
  },
  {
    name: 'weighted split 80/20 (v1alpha3)',
    yaml: vs(
      `  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
`,
      'v1alpha3',
    ),
  },
  {
    name: 'ratings fault delay and abort with timeout, retries, snake_case names',
    yaml: vs(`  hosts: [ratings]
  http:
  - fault:
      delay:
        percentage: {value: 100.0}
        fixed_delay: 7s
      abort:
        percentage: {value: 10}
        httpStatus: 500
    route:
    - destination: {host: ratings, subset: v1}
    timeout: 10s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,refused-stream,503"}
`),
  },
  {
    name: 'gateway-bound ingress with prefix and exact matches, rewrite and headers',
    yaml: vs(`  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match:
    - uri: {exact: /productpage}
    - uri: {prefix: /static}
    - uri: {regex: "^/api/v1/products/[0-9]+$"}
    rewrite: {uri: /}
    headers:
      request:
        set: {x-forwarded-client: mizzen}
      response:
        remove: [server]
    route:
    - destination: {host: productpage, port: {number: 9080}}
`),
  },
  {
    name: 'mirror with mirrorPercentage, CORS, redirect and directResponse rules',
    yaml: vs(`  hosts: [httpbin]
  http:
  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, redirectCode: 302}
  - match: [{uri: {prefix: /teapot}}]
    directResponse: {status: 418, body: {string: "I'm a teapot"}}
  - route: [{destination: {host: httpbin, subset: v1}, weight: 100}]
    mirror: {host: httpbin, subset: v2}
    mirrorPercentage: {value: 50.5}
    corsPolicy:
      allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\\\.example\\\\.org"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-custom, "*"]
      maxAge: 24h
      allowCredentials: false
`),
  },
  {
    name: 'tcp-echo 80/20 TCP route with port match',
    yaml: vs(`  hosts: [tcp-echo]
  gateways: [tcp-echo-gateway]
  tcp:
  - match: [{port: 31400}]
    route:
    - destination: {host: tcp-echo, port: {number: 9000}, subset: v1}
      weight: 80
    - destination: {host: tcp-echo, port: {number: 9000}, subset: v2}
      weight: 20
`),
  },
  {
    name: 'TLS passthrough with SNI covered by a wildcard host',
    yaml: vs(`  hosts: ["*.example.com"]
  gateways: [mesh]
  tls:
  - match:
    - port: 443
      sniHosts: [api.example.com]
    route:
    - destination: {host: api.example.com, port: {number: 443}}
`),
  },
  {
    name: 'root VirtualService delegating to another, and a delegate without hosts',
    yaml: `${vs(`  hosts: [bookinfo.com]
  gateways: [istio-system/public]
  http:
  - match: [{uri: {prefix: /reviews}}]
    delegate: {name: reviews, namespace: default}
`)}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-delegate}
spec:
  http:
  - route: [{destination: {host: reviews}}]
`,
  },
  {
    name: 'header operations with Envoy variables and escaped percent',
    yaml: vs(`  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      headers:
        request:
          add: {x-host: "%HOSTNAME%", x-rate: "100%%", x-meta: "%UPSTREAM_METADATA([\\"istio\\", \\"x\\"])%"}
`),
  },
  {
    name: 'JWT claim routing on a gateway',
    yaml: vs(`  hosts: [bookinfo.com]
  gateways: [istio-system/gw]
  http:
  - match:
    - headers:
        "@request.auth.claims.groups": {exact: group1}
    route: [{destination: {host: reviews}}]
`),
  },
  // ---- invalid ----
  {
    name: 'no http, tcp or tls',
    yaml: vs('  hosts: [reviews]\n'),
    errors: [{ path: 'spec', message: /one of http, tcp or tls must be provided/ }],
  },
  {
    name: 'wildcard "*" host bound to the mesh',
    yaml: vs('  hosts: ["*"]\n  http:\n  - route: [{destination: {host: reviews}}]\n'),
    errors: [{ path: 'spec.hosts[0]', message: /wildcard host "\*" is not allowed .*mesh/, line: 6 }],
  },
  {
    name: 'upper-case host is not a DNS-1123 name',
    yaml: vs('  hosts: [Reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n'),
    errors: [{ path: 'spec.hosts[0]', message: /label "Reviews" invalid/ }],
  },
  {
    name: 'overlapping hosts',
    yaml: vs(
      '  hosts: ["*.example.com", api.example.com]\n  http:\n  - route: [{destination: {host: reviews}}]\n',
    ),
    errors: [{ path: 'spec.hosts[1]', message: /duplicate hosts/ }],
  },
  {
    name: 'rule without action',
    yaml: vs('  hosts: [reviews]\n  http:\n  - match: [{uri: {prefix: /}}]\n'),
    errors: [
      {
        path: 'spec.http[0]',
        message: /one of route, redirect, directResponse or delegate is required/,
        line: 8,
      },
    ],
  },
  {
    name: 'route and redirect together',
    yaml: vs(`  hosts: [reviews]
  http:
  - redirect: {uri: /x}
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].redirect', message: /both route and redirect/, line: 8 }],
  },
  {
    name: 'directResponse with fault',
    yaml: vs(`  hosts: [reviews]
  http:
  - directResponse: {status: 503}
    fault: {abort: {httpStatus: 500, percentage: {value: 1}}}
`),
    errors: [{ path: 'spec.http[0].fault', message: /both fault and directResponse/ }],
  },
  {
    name: 'directResponse status out of range',
    yaml: vs('  hosts: [reviews]\n  http:\n  - directResponse: {status: 99}\n'),
    errors: [{ path: 'spec.http[0].directResponse.status', message: /not in range 200-599/ }],
  },
  {
    name: 'directResponse body with both string and bytes',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - directResponse: {status: 200, body: {string: a, bytes: YQ==}}\n',
    ),
    errors: [{ path: 'spec.http[0].directResponse.body', message: /only one of string, bytes/ }],
  },
  {
    name: 'redirect code not 3xx',
    yaml: vs('  hosts: [reviews]\n  http:\n  - redirect: {uri: /x, redirectCode: 200}\n'),
    errors: [{ path: 'spec.http[0].redirect.redirectCode', message: /must be 3xx/ }],
  },
  {
    name: 'redirect with port and derivePort',
    yaml: vs('  hosts: [reviews]\n  http:\n  - redirect: {port: 8080, derivePort: FROM_REQUEST_PORT}\n'),
    errors: [{ path: 'spec.http[0].redirect', message: /only one of port, derivePort/ }],
  },
  {
    name: 'empty redirect',
    yaml: vs('  hosts: [reviews]\n  http:\n  - redirect: {redirectCode: 301}\n'),
    errors: [
      { path: 'spec.http[0].redirect', message: /must specify uri, authority, scheme, port or derivePort/ },
    ],
  },
  {
    name: 'redirect scheme must be http or https',
    yaml: vs('  hosts: [reviews]\n  http:\n  - redirect: {scheme: ftp}\n'),
    errors: [{ path: 'spec.http[0].redirect.scheme', message: /must be "http" or "https"/ }],
  },
  {
    name: 'weights all zero',
    yaml: vs(`  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 0
    - destination: {host: reviews, subset: v2}
`),
    errors: [{ path: 'spec.http[0].route', message: /total destination weight is 0/ }],
  },
  {
    name: 'negative weight',
    yaml: vs('  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}, weight: -5}]\n'),
    errors: [
      {
        path: 'spec.http[0].route[0].weight',
        message: /^must be an integer between 0 and 100, got number -5$/,
      },
    ],
  },
  {
    name: 'weight above 100',
    yaml: vs('  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}, weight: 150}]\n'),
    errors: [{ path: 'spec.http[0].route[0].weight', message: /between 0 and 100, got number 150/, line: 8 }],
  },
  {
    name: 'fractional weight',
    yaml: vs('  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}, weight: 50.5}]\n'),
    errors: [{ path: 'spec.http[0].route[0].weight', message: /integer/ }],
  },
  {
    name: 'destination host "*"',
    yaml: vs('  hosts: [reviews]\n  http:\n  - route: [{destination: {host: "*"}}]\n'),
    errors: [{ path: 'spec.http[0].route[0].destination.host', message: /invalid destination host "\*"/ }],
  },
  {
    name: 'destination missing',
    yaml: vs('  hosts: [reviews]\n  http:\n  - route: [{weight: 100}]\n'),
    errors: [{ path: 'spec.http[0].route[0].destination', message: /is required/ }],
  },
  {
    name: 'subset name not a DNS label',
    yaml: vs('  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews, subset: V_1}}]\n'),
    errors: [{ path: 'spec.http[0].route[0].destination.subset', message: /subset name "V_1" is invalid/ }],
  },
  {
    name: 'destination port out of range',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews, port: {number: 70000}}}]\n',
    ),
    errors: [{ path: 'spec.http[0].route[0].destination.port.number', message: /between 1 and 65535/ }],
  },
  {
    name: 'negative retry attempts',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n    retries: {attempts: -1}\n',
    ),
    errors: [{ path: 'spec.http[0].retries.attempts', message: /integer between 0/ }],
  },
  {
    name: 'retry options with attempts 0',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n    retries: {attempts: 0, retryOn: 5xx}\n',
    ),
    errors: [{ path: 'spec.http[0].retries', message: /retries are disabled/ }],
  },
  {
    name: 'perTryTimeout below 1ms',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n    retries: {attempts: 2, perTryTimeout: 500us}\n',
    ),
    errors: [{ path: 'spec.http[0].retries.perTryTimeout', message: /at least 1ms/ }],
  },
  {
    name: 'unknown retryOn policy',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n    retries: {attempts: 2, retryOn: "5xx,sometimes"}\n',
    ),
    errors: [{ path: 'spec.http[0].retries.retryOn', message: /"sometimes" is not a valid retryOn policy/ }],
  },
  {
    name: 'timeout not a duration',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n    timeout: 10 seconds\n',
    ),
    errors: [{ path: 'spec.http[0].timeout', message: /must be a duration/, line: 9 }],
  },
  {
    name: 'timeout with sub-millisecond precision',
    yaml: vs(
      '  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews}}]\n    timeout: 1.0005s\n',
    ),
    errors: [{ path: 'spec.http[0].timeout', message: /millisecond precision/ }],
  },
  {
    name: 'fault percentage above 100',
    yaml: vs(`  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    fault: {delay: {fixedDelay: 1s, percentage: {value: 150}}}
`),
    errors: [{ path: 'spec.http[0].fault.delay.percentage.value', message: /percentage 150/ }],
  },
  {
    name: 'fault abort status out of range',
    yaml: vs(`  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    fault: {abort: {httpStatus: 100, percentage: {value: 10}}}
`),
    errors: [{ path: 'spec.http[0].fault.abort.httpStatus', message: /not in range 200-599/ }],
  },
  {
    name: 'fault grpcStatus must be a code name',
    yaml: vs(`  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    fault: {abort: {grpcStatus: unavailable, percentage: {value: 10}}}
`),
    errors: [{ path: 'spec.http[0].fault.abort.grpcStatus', message: /upper-case code name/ }],
  },
  {
    name: 'fault delay without fixedDelay',
    yaml: vs(`  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    fault: {delay: {percentage: {value: 10}}}
`),
    errors: [{ path: 'spec.http[0].fault.delay.fixedDelay', message: /is required/ }],
  },
  {
    name: 'fault without abort or delay',
    yaml: vs('  hosts: [ratings]\n  http:\n  - route: [{destination: {host: ratings}}]\n    fault: {}\n'),
    errors: [{ path: 'spec.http[0].fault', message: /abort and\/or a delay/ }],
  },
  {
    name: 'StringMatch with two kinds',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{uri: {exact: /a, prefix: /b}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].uri', message: /only one of exact, prefix, regex/ }],
  },
  {
    name: 'regex with lookahead is not RE2',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{uri: {regex: "/(?=admin)"}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].uri.regex', message: /invalid RE2 regex/, line: 8 }],
  },
  {
    name: 'empty header prefix match',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {x-user: {prefix: ""}}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].headers["x-user"].prefix', message: /should not be empty/ }],
  },
  {
    name: 'invalid header name in match',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {"x user": {exact: a}}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].headers["x user"]', message: /not a valid header name/ }],
  },
  {
    name: 'match port out of range',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{port: 0}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].port', message: /between 1 and 65535/ }],
  },
  {
    name: 'match sourceLabels with invalid value',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: "bad value"}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].sourceLabels.app', message: /invalid label value/ }],
  },
  {
    name: 'gateway reference with an invalid namespace',
    yaml: vs(
      '  hosts: [reviews]\n  gateways: [Istio_System/gw]\n  http:\n  - route: [{destination: {host: reviews}}]\n',
    ),
    errors: [{ path: 'spec.gateways[0]', message: /invalid namespace "Istio_System"/ }],
  },
  {
    name: 'TLS sniHost not covered by hosts',
    yaml: vs(`  hosts: [api.example.com]
  tls:
  - match: [{sniHosts: [other.example.com]}]
    route: [{destination: {host: api.example.com}}]
`),
    errors: [
      { path: 'spec.tls[0].match[0].sniHosts[0]', message: /not covered by any of the VirtualService hosts/ },
    ],
  },
  {
    name: 'TLS rule without sniHosts',
    yaml: vs(`  hosts: [api.example.com]
  tls:
  - match: [{port: 443}]
    route: [{destination: {host: api.example.com}}]
`),
    errors: [{ path: 'spec.tls[0].match[0].sniHosts', message: /is required/ }],
  },
  {
    name: 'TCP rule without route',
    yaml: vs('  hosts: [tcp-echo]\n  tcp:\n  - match: [{port: 9000}]\n'),
    errors: [{ path: 'spec.tcp[0].route', message: /at least one route destination/ }],
  },
  {
    name: 'TCP destinationSubnets not CIDR',
    yaml: vs(
      '  hosts: [tcp-echo]\n  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/40]}]\n    route: [{destination: {host: tcp-echo}}]\n',
    ),
    errors: [{ path: 'spec.tcp[0].match[0].destinationSubnets[0]', message: /CIDR/ }],
  },
  {
    name: 'delegate VirtualService with gateways and tcp',
    yaml: vs(`  gateways: [gw]
  http:
  - route: [{destination: {host: reviews}}]
  tcp:
  - route: [{destination: {host: reviews}}]
`),
    errors: [
      { path: 'spec.gateways', message: /delegate VirtualService .* must not list gateways/ },
      { path: 'spec.tcp', message: /must not have tcp rules/ },
    ],
  },
  {
    name: 'delegate VirtualService delegating further',
    yaml: vs('  http:\n  - delegate: {name: other}\n'),
    errors: [{ path: 'spec.http[0]', message: /cannot delegate further/ }],
  },
  {
    name: 'delegate rule with route',
    yaml: vs(`  hosts: [reviews]
  http:
  - delegate: {name: other}
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].route', message: /with delegate must not specify route/ }],
  },
  {
    name: 'JWT claim routing on the mesh',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {"@request.auth.claims.sub": {exact: a}}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [
      {
        path: 'spec.http[0].match[0].headers["@request.auth.claims.sub"]',
        message: /only supported on gateways/,
      },
    ],
  },
  {
    name: 'mirror and mirrors together',
    yaml: vs(`  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin}}]
    mirror: {host: httpbin, subset: v2}
    mirrors: [{destination: {host: httpbin, subset: v3}}]
`),
    errors: [{ path: 'spec.http[0].mirrors', message: /both mirror and mirrors/ }],
  },
  {
    name: 'mirrorPercent above 100 (deprecated field)',
    yaml: vs(`  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin}}]
    mirror: {host: httpbin, subset: v2}
    mirrorPercent: 150
`),
    errors: [{ path: 'spec.http[0].mirrorPercent', message: /at most 100/ }],
    warnings: [{ path: 'spec.http[0].mirrorPercent', message: /deprecated: use mirrorPercentage/ }],
  },
  {
    name: 'header value with a lone percent',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    headers: {response: {set: {x-load: "50%"}}}
`),
    errors: [{ path: 'spec.http[0].headers.response.set["x-load"]', message: /un-escaped "%"/ }],
  },
  {
    name: 'removing the Host header',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    headers: {request: {remove: [Host]}}
`),
    errors: [{ path: 'spec.http[0].headers.request.remove[0]', message: /cannot remove the Host header/ }],
  },
  {
    name: 'authority rewritten twice',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    rewrite: {authority: a.example.com}
    headers: {request: {set: {":authority": b.example.com}}}
`),
    errors: [
      {
        path: 'spec.http[0].headers.request.set[":authority"]',
        message: /authority header cannot be set multiple times/,
      },
    ],
  },
  {
    name: 'rewrite with uri and uriRegexRewrite',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    rewrite: {uri: /a, uriRegexRewrite: {match: "^/b", rewrite: /c}}
`),
    errors: [{ path: 'spec.http[0].rewrite', message: /only one of uri and uriRegexRewrite/ }],
  },
  {
    name: 'CORS unknown method and fractional maxAge',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    corsPolicy: {allowMethods: [FETCH], maxAge: 1.5s}
`),
    errors: [
      { path: 'spec.http[0].corsPolicy.allowMethods[0]', message: /"FETCH" is not a supported HTTP method/ },
      { path: 'spec.http[0].corsPolicy.maxAge', message: /whole seconds/ },
    ],
  },
  {
    name: 'misspelt field gets a suggestion',
    yaml: vs('  hosts: [reviews]\n  http:\n  - rout: [{destination: {host: reviews}}]\n'),
    errors: [{ path: 'spec.http[0].rout', message: /did you mean "route"/, line: 8 }],
  },
  {
    name: 'exportTo with "*" and a namespace',
    yaml: vs(
      '  hosts: [reviews]\n  exportTo: ["*", default]\n  http:\n  - route: [{destination: {host: reviews}}]\n',
    ),
    errors: [{ path: 'spec.exportTo', message: /both public \(\*\) and other/ }],
  },
  // ---- warnings on valid documents ----
  {
    name: 'deprecated fault percent and CORS allowOrigin warn',
    yaml: vs(`  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    fault: {delay: {fixedDelay: 2s, percent: 50}}
    corsPolicy: {allowOrigin: ["https://a.example.com"]}
`),
    warnings: [
      { path: 'spec.http[0].fault.delay.percent', message: /deprecated: use percentage/ },
      { path: 'spec.http[0].corsPolicy.allowOrigin', message: /deprecated: use allowOrigins/ },
    ],
  },
  {
    name: 'rules after a catch-all rule are unreachable',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /x}}]
    route: [{destination: {host: reviews, subset: v2}}]
`),
    warnings: [{ path: 'spec.http[1]', message: /never used: rule #0 before it has no match/ }],
  },
  {
    name: 'duplicate match is unreachable; upper-case header name warns',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {End-User: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{headers: {End-User: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v3}}]
`),
    warnings: [
      { path: 'spec.http[1]', message: /all its matches are used by prior rules/ },
      { path: 'spec.http[0].match[0].headers["End-User"]', message: /lower case/ },
    ],
  },
  {
    name: 'fault without percentage warns that it is never injected',
    yaml: vs(`  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
    fault: {abort: {httpStatus: 503}}
`),
    warnings: [{ path: 'spec.http[0].fault.abort', message: /never injected/ }],
  },
  {
    name: 'header names may use any RFC 7230 token character, in matches and CORS lists (as Istio)',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {"x.tenant~id": {exact: a}}, withoutHeaders: {"x!debug": {}}}]
    route: [{destination: {host: reviews}}]
    corsPolicy: {allowHeaders: ["x.custom"], exposeHeaders: ["x~trace"]}
`),
    noWarnings: true,
  },
  {
    name: 'a quote is not a token character',
    yaml: vs(`  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    corsPolicy: {allowHeaders: ['x"y']}
`),
    errors: [
      { path: 'spec.http[0].corsPolicy.allowHeaders[0]', message: /not a valid header name/, line: 9 },
    ],
  },
  {
    name: 'pseudo-headers can be matched (as Istio allows)',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {":method": {exact: POST}, ":path": {prefix: /api}}}]
    route: [{destination: {host: reviews}}]
`),
    noWarnings: true,
  },
  {
    name: 'a :status match warns: requests have no status',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {":status": {exact: "200"}}}]
    route: [{destination: {host: reviews}}]
`),
    warnings: [{ path: 'spec.http[0].match[0].headers[":status"]', message: /no :status pseudo-header/ }],
  },
  {
    name: 'an unknown pseudo-header is refused',
    yaml: vs(`  hosts: [reviews]
  http:
  - match: [{headers: {":protocol": {exact: a}}}]
    route: [{destination: {host: reviews}}]
`),
    errors: [{ path: 'spec.http[0].match[0].headers[":protocol"]', message: /not a valid header name/ }],
  },
];

runTable('VirtualService', cases);

test('VirtualService: normalized spec is typed and keeps camelCase names', () => {
  const r = load(
    vs(`  hosts: [ratings]
  http:
  - fault: {delay: {fixed_delay: 7s, percentage: {value: 100}}}
    route: [{destination: {host: ratings, subset: v1}}]
`),
  );
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error').length, 0);
  const v = r.resources[0] as VirtualService;
  assert.equal(v.spec.http?.[0].fault?.delay?.fixedDelay, '7s');
  assert.equal(v.spec.http?.[0].route?.[0].destination.subset, 'v1');
});
