// `mizzen x authz check` formatting: policies pilot generated for a workload, read back from listeners.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inboundListeners } from '../../pilot/authz/test-util.js';
import { formatAuthzCheck } from './authz-check.js';

const YAML = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: foo }
spec:
  action: DENY
  rules: [{ to: [{ operation: { methods: ["GET", "POST"], paths: ["/admin*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: viewer, namespace: foo, annotations: { "istio.io/dry-run": "true" } }
spec:
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }]
  - when: [{ key: "request.auth.claims[groups]", values: ["group1"] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: foo }
spec:
  jwtRules: [{ issuer: "testing@secure.istio.io", jwks: '{"keys":[]}' }]
`;

test('x authz check lists each policy with its action and rule count, then the effective rules', () => {
  const out = formatAuthzCheck(inboundListeners([YAML]));
  const lines = out.split('\n');
  assert.match(lines[0], /^Checked 2\/2 listeners with RBAC filter\(s\)\.$/);
  assert.match(out, /^ACTION\s+AuthorizationPolicy\s+RULES$/m);
  assert.match(out, /^DENY\s+deny-admin\.foo\s+1$/m);
  assert.match(out, /^ALLOW \(dry-run\)\s+viewer\.foo\s+2$/m);
  assert.match(out, /JWT issuers verified: testing@secure\.istio\.io/);
  assert.match(
    out,
    /DENY {2}deny-admin\.foo rule\[0\] on HTTP 8000: from any to \(\(method GET or method POST\) and path \/admin\*\)/,
  );
  // On TCP the DENY rule's HTTP-only fields are dropped: it denies the whole port.
  assert.match(out, /DENY {2}deny-admin\.foo rule\[0\] on TCP 9000: from any to any/);
  assert.match(
    out,
    /viewer\.foo rule\[0\] on HTTP 8000: from principal spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep to any/,
  );
  assert.match(out, /viewer\.foo rule\[1\] on HTTP 8000: from request\.auth\.claims\[groups\] group1 to any/);
});

test('x authz check on a workload without policies', () => {
  const out = formatAuthzCheck(inboundListeners([]));
  assert.equal(out.split('\n')[0], 'Checked 0/2 listeners with RBAC filter(s).');
  assert.doesNotMatch(out, /Effective rules/);
});
