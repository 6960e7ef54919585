// Valid and invalid RequestAuthentication documents.
import { runTable, type Case } from '../../test-util.js';

const ra = (spec: string, version = 'v1'): string =>
  `apiVersion: security.istio.io/${version}\nkind: RequestAuthentication\nmetadata:\n  name: jwt-example\n  namespace: foo\nspec:\n${spec}`;

const JWKS = '{"keys":[{"e":"AQAB","kid":"abc","kty":"RSA","n":"xyz"}]}';

const cases: Case[] = [
  {
    name: 'ingress gateway JWT (Istio end-user authentication task)',
    yaml: `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: "jwt-example"
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: "testing@secure.istio.io"
    jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json"
`,
  },
  {
    name: 'every JWTRule field, v1beta1, with an inline JWKS',
    yaml: ra(
      `  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: issuer-foo
    audiences: [bookstore_android.apps.example.com, bookstore_web.apps.example.com]
    jwks: '${JWKS}'
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    fromParams: [my_token]
    fromCookies: [session]
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders:
    - header: x-jwt-claim-foo
      claim: foo
    forwardOriginalToken: true
    spaceDelimitedClaims: [scope]
`,
      'v1beta1',
    ),
  },
  {
    name: 'snake_case jwks_uri and a fetch timeout',
    yaml: ra(
      '  jwtRules:\n  - issuer: a\n    jwks_uri: http://jwks.default.svc:8000/keys\n    timeout: 10s\n',
    ),
  },
  {
    name: 'targetRef to a Gateway',
    yaml: ra(
      '  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n  jwtRules:\n  - issuer: a\n    jwksUri: https://example.com/jwks\n',
    ),
  },
  {
    name: 'jwksUri without issuer is allowed (as Istio)',
    yaml: ra('  jwtRules:\n  - jwksUri: https://example.com/jwks\n'),
  },
  {
    name: 'issuer is required without a jwksUri',
    yaml: ra('  jwtRules:\n  - audiences: [a]\n'),
    errors: [{ path: 'spec.jwtRules[0].issuer', message: /is required unless jwksUri is set/ }],
  },
  {
    name: 'empty issuer',
    yaml: ra('  jwtRules:\n  - issuer: ""\n'),
    errors: [{ path: 'spec.jwtRules[0].issuer', message: /must not be empty/ }],
  },
  {
    name: 'jwksUri with an unsupported scheme',
    yaml: ra('  jwtRules:\n  - issuer: a\n    jwksUri: ftp://example.com/jwks\n'),
    errors: [{ path: 'spec.jwtRules[0].jwksUri', message: /scheme "ftp" is not supported/ }],
  },
  {
    name: 'jwksUri that is not a URL',
    yaml: ra('  jwtRules:\n  - issuer: a\n    jwksUri: example.com/jwks\n'),
    errors: [{ path: 'spec.jwtRules[0].jwksUri', message: /must be an http:\/\/ or https:\/\/ URL/ }],
  },
  {
    name: 'jwks and jwksUri together',
    yaml: ra(`  jwtRules:\n  - issuer: a\n    jwksUri: https://example.com/jwks\n    jwks: '${JWKS}'\n`),
    errors: [{ path: 'spec.jwtRules[0].jwks', message: /only one of jwks or jwksUri/ }],
  },
  {
    name: 'jwks that is not JSON',
    yaml: ra('  jwtRules:\n  - issuer: a\n    jwks: "{keys: oops"\n'),
    errors: [{ path: 'spec.jwtRules[0].jwks', message: /jwks parse error: not JSON/ }],
  },
  {
    name: 'jwks whose key has no kty',
    yaml: ra(`  jwtRules:\n  - issuer: a\n    jwks: '{"keys":[{"n":"x"}]}'\n`),
    errors: [{ path: 'spec.jwtRules[0].jwks', message: /keys\[0\] is not a JSON Web Key/ }],
  },
  {
    name: 'claim header with a space',
    yaml: ra(
      '  jwtRules:\n  - issuer: a\n    outputClaimToHeaders:\n    - header: "x jwt"\n      claim: sub\n',
    ),
    errors: [{ path: 'spec.jwtRules[0].outputClaimToHeaders[0].header', message: /HTTP header name/ }],
  },
  {
    name: 'claim is required',
    yaml: ra('  jwtRules:\n  - issuer: a\n    outputClaimToHeaders:\n    - header: x-sub\n'),
    errors: [{ path: 'spec.jwtRules[0].outputClaimToHeaders[0].claim', message: /is required/ }],
  },
  {
    name: 'fromHeaders entry without a name',
    yaml: ra('  jwtRules:\n  - issuer: a\n    fromHeaders:\n    - prefix: "Bearer "\n'),
    errors: [{ path: 'spec.jwtRules[0].fromHeaders[0].name', message: /is required/ }],
  },
  {
    name: 'empty audience',
    yaml: ra('  jwtRules:\n  - issuer: a\n    audiences: [""]\n'),
    errors: [{ path: 'spec.jwtRules[0].audiences[0]', message: /must not be empty/ }],
  },
  {
    name: 'timeout without a unit',
    yaml: ra('  jwtRules:\n  - issuer: a\n    timeout: "5"\n'),
    errors: [{ path: 'spec.jwtRules[0].timeout', message: /must be a duration/ }],
  },
  {
    name: 'forwardOriginalToken as a string',
    yaml: ra('  jwtRules:\n  - issuer: a\n    forwardOriginalToken: "yes"\n'),
    errors: [{ path: 'spec.jwtRules[0].forwardOriginalToken', message: /must be true or false/ }],
  },
  {
    name: 'jwt_rules misspelt',
    yaml: ra('  jwtRule:\n  - issuer: a\n'),
    errors: [{ path: 'spec.jwtRule', message: /did you mean "jwtRules"/ }],
  },
  {
    name: 'selector and targetRef together',
    yaml: ra(
      '  selector:\n    matchLabels:\n      app: a\n  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: gw\n',
    ),
    errors: [{ path: 'spec.targetRef', message: /only one of selector, targetRef or targetRefs/ }],
  },
  {
    name: 'targetRef to a Deployment',
    yaml: ra('  targetRef:\n    kind: Deployment\n    group: apps\n    name: httpbin\n'),
    errors: [{ path: 'spec.targetRef.kind', message: /targetRef must refer to one of Service/ }],
  },
  {
    name: 'targetRef to a Gateway without its group',
    yaml: ra('  targetRefs:\n  - kind: Gateway\n    name: gw\n'),
    errors: [
      { path: 'spec.targetRefs[0].group', message: /Gateway is in group "gateway.networking.k8s.io"/ },
    ],
  },
  {
    name: 'targetRef in another namespace',
    yaml: ra('  targetRef:\n    kind: Service\n    name: httpbin\n    namespace: bar\n'),
    errors: [{ path: 'spec.targetRef.namespace', message: /cross-namespace references are not supported/ }],
  },
  {
    name: 'targetRef without a name',
    yaml: ra('  targetRef:\n    kind: Service\n'),
    errors: [{ path: 'spec.targetRef.name', message: /is required/ }],
  },
  {
    name: 'fromHeaders and outputPayloadToHeader take any header token, as Istio (which only wants them non-empty)',
    yaml: ra(`  jwtRules:
  - issuer: a
    jwksUri: https://example.com/jwks
    fromHeaders: [{name: x.jwt}]
    outputPayloadToHeader: x.jwt~payload
`),
    noWarnings: true,
  },
  {
    name: 'fromHeaders name with a space can never arrive in a request',
    yaml: ra(
      '  jwtRules:\n  - issuer: a\n    jwksUri: https://example.com/jwks\n    fromHeaders: [{name: "x jwt"}]\n',
    ),
    errors: [{ path: 'spec.jwtRules[0].fromHeaders[0].name', message: /must be an HTTP header name/ }],
  },
  {
    name: 'outputClaimToHeaders stays strict (letters, digits, "-", "_"), as Istio',
    yaml: ra(
      '  jwtRules:\n  - issuer: a\n    jwksUri: https://example.com/jwks\n    outputClaimToHeaders: [{header: x.sub, claim: sub}]\n',
    ),
    errors: [
      { path: 'spec.jwtRules[0].outputClaimToHeaders[0].header', message: /letters, digits, "-", "_"/ },
    ],
  },
  {
    name: 'inline JWKS with a private RSA key and a symmetric key warns for each',
    yaml: ra(
      `  jwtRules:\n  - issuer: a\n    jwks: '{"keys":[{"kty":"RSA","e":"AQAB","n":"xyz"},{"kty":"RSA","e":"AQAB","n":"xyz","d":"secret"},{"kty":"oct","k":"c2VjcmV0"}]}'\n`,
    ),
    warnings: [
      { path: 'spec.jwtRules[0].jwks', message: /key at index 1 contains private key material/ },
      { path: 'spec.jwtRules[0].jwks', message: /key at index 2 contains private key material/ },
    ],
  },
  {
    name: 'inline JWKS of public keys does not warn',
    yaml: ra(`  jwtRules:\n  - issuer: a\n    jwks: '${JWKS}'\n`),
    noWarnings: true,
  },
];

runTable('RequestAuthentication', cases);
