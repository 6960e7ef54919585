// An HTTP match that an earlier URI-prefix match already takes is warned about (IST0131); narrower earlier matches are not.
import { runTable, type Case } from '../../test-util.js';

/** A VirtualService whose `http:` list starts on line 7. */
const vs = (http: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: api\nspec:\n  hosts: [api]\n  http:\n${http}`;

const cases: Case[] = [
  {
    name: '/api before /api/v2: the second rule never sees a request',
    yaml: vs(`  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api-v1}}]
  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: api-v2}}]
`),
    warnings: [
      {
        path: 'spec.http[1].match[0]',
        message: /never used: match #0 of rule #0 \(uri prefix "\/api"\)/,
        line: 10,
      },
    ],
  },
  {
    name: 'an exact URI under an earlier prefix is covered too',
    yaml: vs(`  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api-v1}}]
  - name: health
    match: [{uri: {exact: /api/health}}]
    route: [{destination: {host: health}}]
`),
    warnings: [{ path: 'spec.http[1].match[0]', message: /match #0 of http rule "health" is never used/ }],
  },
  {
    name: 'a later match in the same rule is covered by an earlier one',
    yaml: vs(`  - match: [{uri: {prefix: /api/v1/product}}, {uri: {prefix: /api/v1/products}, method: {exact: GET}}]
    route: [{destination: {host: api}}]
`),
    warnings: [{ path: 'spec.http[0].match[1]', message: /never used/ }],
  },
  {
    name: 'the specific prefix first, then the general one: both are used',
    yaml: vs(`  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: api-v2}}]
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api-v1}}]
`),
    noWarnings: true,
  },
  {
    name: 'an earlier match narrowed by a header does not cover a later one without it',
    yaml: vs(`  - match: [{uri: {prefix: /api}, headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: api-test}}]
  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: api-v2}}]
`),
    noWarnings: true,
  },
  {
    name: 'a header prefix condition covers a later exact value under it',
    yaml: vs(`  - match: [{uri: {prefix: /api}, headers: {x-tier: {prefix: gold}}}]
    route: [{destination: {host: gold}}]
  - match: [{uri: {prefix: /api/v2}, headers: {X-Tier: {exact: gold-plus}}}]
    route: [{destination: {host: gold-plus}}]
`),
    warnings: [{ path: 'spec.http[1].match[0]', message: /never used/ }],
  },
  {
    name: 'different methods, ports, gateways or case handling do not overlap',
    yaml: vs(`  - match: [{uri: {prefix: /api}, method: {exact: POST}}]
    route: [{destination: {host: writes}}]
  - match: [{uri: {prefix: /api}, port: 8080}]
    route: [{destination: {host: alt}}]
  - match: [{uri: {prefix: /api}, gateways: [mesh]}]
    route: [{destination: {host: inside}}]
  - match: [{uri: {prefix: /API}, ignoreUriCase: true}]
    route: [{destination: {host: any-case}}]
  - match: [{uri: {prefix: /api/v2}, method: {exact: GET}}]
    route: [{destination: {host: reads}}]
`),
    noWarnings: true,
  },
  {
    name: 'a delegating rule covers nothing: requests its delegate does not route fall through',
    yaml: vs(`  - match: [{uri: {prefix: /api}}]
    delegate: {name: api-routes, namespace: api}
  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: api-v2}}]
`),
    noWarnings: true,
  },
  {
    name: 'a regex URI is never taken as covered',
    yaml: vs(`  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api}}]
  - match: [{uri: {regex: "/api/v[0-9]+"}}]
    route: [{destination: {host: versioned}}]
`),
    noWarnings: true,
  },
];

runTable('VirtualService overlapping matches', cases);
