// The RBAC engine over typed envoy.config.rbac.v3.RBAC: policies matched in name order, ALLOW/DENY/LOG,
// and what it refuses (CEL conditions, audit loggers, principals it does not know) naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RbacEngine } from './rbac-engine.js';
import type { RbacInput } from './rbac-input.js';

const input = (over: Partial<RbacInput> = {}): RbacInput => ({
  directRemoteIp: '10.0.0.5',
  remoteIp: '10.0.0.5',
  localIp: '10.0.0.9',
  localPort: 9080,
  sni: '',
  peerPrincipal: 'spiffe://cluster.local/ns/default/sa/sleep',
  headers: { headers: {}, pseudo: (n) => (n === ':path' ? '/ok' : n === ':method' ? 'GET' : undefined) },
  path: '/ok',
  metadata: { 'envoy.filters.http.jwt_authn': { payload: { iss: 'me', groups: ['a', 'b'] } } },
  ...over,
});

describe('RBAC engine', () => {
  const engine = new RbacEngine({
    action: 'ALLOW',
    policies: {
      'b-jwt': {
        permissions: [{ any: true }],
        principals: [
          {
            metadata: {
              filter: 'envoy.filters.http.jwt_authn',
              path: [{ key: 'payload' }, { key: 'groups' }],
              value: { listMatch: { oneOf: { stringMatch: { exact: 'b' } } } },
            },
          },
        ],
      },
      'a-sleep': {
        permissions: [
          { andRules: { rules: [{ destinationPort: 9080 }, { urlPath: { path: { prefix: '/ok' } } }] } },
        ],
        principals: [{ authenticated: { principalName: { suffix: '/sa/sleep' } } }],
      },
    },
  });

  it('matches the first policy by name and allows', () => {
    assert.deepEqual(engine.evaluate(input()), { allowed: true, policy: 'a-sleep' });
    assert.deepEqual(engine.evaluate(input({ peerPrincipal: '' })), { allowed: true, policy: 'b-jwt' });
    assert.deepEqual(engine.evaluate(input({ peerPrincipal: '', metadata: null })), {
      allowed: false,
      policy: '',
    });
  });

  it('refuses CEL conditions, audit loggers and unknown principals, naming the policy or field', () => {
    assert.throws(
      () =>
        new RbacEngine({
          policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], condition: {} } },
        }),
      /policies\[p\]: CEL conditions are not supported/,
    );
    assert.throws(
      () => new RbacEngine({ auditLoggingOptions: { loggerConfigs: [{ auditLogger: { name: 'stdout' } }] } }),
      /auditLoggingOptions is not supported/,
    );
    assert.throws(
      () =>
        new RbacEngine({
          policies: { p: { permissions: [{ any: true }], principals: [{ filterState: { key: 'k' } }] } },
        }),
      /policies\[p\]: unsupported RBAC principal/,
    );
  });
});
