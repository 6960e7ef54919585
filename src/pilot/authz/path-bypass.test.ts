// The table of path normalization bypass attempts against a DENY /admin* rule: each is refused
// (403 by RBAC after the HCM normalized the path, or 400 from the HCM itself), per MeshConfig pathNormalization.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from '../../proxy/test-util.js';
import type { Proxy } from '../../proxy/proxy.js';
import { inboundListeners, serveInbound, TEST_IP } from './test-util.js';

const DENY_ADMIN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: foo }
spec:
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]
`;

const mesh = (normalization: string): string => `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
    pathNormalization: { normalization: ${normalization} }
`;

/** Sends exact request-line bytes (no client-side cleanup of the path) and returns the status code. */
function rawStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, TEST_IP);
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        resolve(Number(m[1]));
        s.destroy();
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(0));
    s.write(`GET ${target} HTTP/1.1\r\nHost: httpbin\r\nConnection: close\r\n\r\n`);
  });
}

let backend: Backend;
before(async () => {
  backend = await startBackend('httpbin');
});
after(async () => backend.close());

/** [request target, expected status] */
const BASE_TABLE: [string, number][] = [
  ['/admin', 403],
  ['/public', 200],
  ['/public/../admin', 403],
  ['/./admin', 403],
  ['/public/./../admin/x', 403],
  ['/x/%2e%2e/admin', 403],
  ['/%61dmin', 403],
  ['/public\\..\\admin', 403],
  ['/admin#frag', 400],
];

const MERGE_TABLE: [string, number][] = [
  ['//admin', 403],
  ['/public/..//admin', 403],
  ['///admin///x', 403],
];

const DECODE_TABLE: [string, number][] = [
  ['/public%2F..%2Fadmin', 403],
  ['/%2Fadmin', 403],
  ['/public%5C..%5Cadmin', 403],
];

for (const [mode, table] of [
  ['BASE', BASE_TABLE],
  ['MERGE_SLASHES', [...BASE_TABLE, ...MERGE_TABLE]],
  ['DECODE_AND_MERGE_SLASHES', [...BASE_TABLE, ...MERGE_TABLE, ...DECODE_TABLE]],
] as const) {
  describe(`DENY /admin* with pathNormalization ${mode}`, () => {
    let proxy: Proxy;
    before(async () => {
      proxy = await serveInbound(inboundListeners([DENY_ADMIN, mesh(mode)]), backend, 1);
    });
    after(async () => proxy.close());
    for (const [target, want] of table)
      it(`${JSON.stringify(target)} → ${want}`, async () => {
        const before = backend.seen.length;
        assert.equal(await rawStatus(8000, target), want);
        if (want !== 200) assert.equal(backend.seen.length, before, 'the refused request reached the app');
      });
  });
}
