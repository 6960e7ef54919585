// The ext_authz typed config pilot builds for a provider: status_on_error in canonical form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeResource, encodeResource } from '../../xds/protos.js';
import { buildHttpExtAuthz } from './ext-authz-filters.js';
import type { ExtAuthzProvider } from './ext-authz-provider.js';

const provider = (statusOnError: number): ExtAuthzProvider => ({
  name: 'authz',
  kind: 'http',
  service: 'authz.default.svc.cluster.local',
  port: 8000,
  timeoutMs: 600_000,
  failOpen: false,
  statusOnError,
  pathPrefix: '',
  includeRequestHeadersInCheck: [],
  includeAdditionalHeadersInCheck: {},
  includeRequestBodyInCheck: null,
  headersToUpstreamOnAllow: [],
  headersToDownstreamOnDeny: [],
  headersToDownstreamOnAllow: [],
  error: null,
});

const build = (code: number) =>
  buildHttpExtAuthz({
    provider: provider(code),
    hostname: 'authz.default.svc.cluster.local',
    cluster: 'outbound|8000||authz.default.svc.cluster.local',
  });

test('status_on_error is the StatusCode name (as the decoded config has it), a code the enum does not name stays a number', () => {
  // It was the bare number, which is not the canonical form of a named enum value (decoding gives the name).
  const named = build(503);
  assert.deepEqual(named.statusOnError, { code: 'ServiceUnavailable' });
  const unnamed = build(599);
  assert.deepEqual(unnamed.statusOnError, { code: 599 });
  for (const c of [named, unnamed]) {
    const { '@type': url, ...fields } = c;
    const round = decodeResource(encodeResource(url, fields));
    assert.deepEqual(round.statusOnError, fields.statusOnError);
  }
});
