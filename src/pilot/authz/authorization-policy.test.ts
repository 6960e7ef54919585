// AuthorizationPolicy end to end at proxy level: YAML → pilot's RBAC filters (through the real Envoy
// protos) → a real proxy → requests with and without client certificates; 403 / closed / allowed.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { admin, startBackend, type Backend } from '../../proxy/test-util.js';
import type { Proxy } from '../../proxy/proxy.js';
import { TestPki } from '../../proxy/tls/test-pki.js';
import { inboundListeners, mtlsSocket, send, serveInbound, tcpExchange } from './test-util.js';

const pki = new TestPki();
const serverCert = pki.issue('server', 'localhost', ['localhost']);
const sleepCert = pki.issue('sleep', 'sleep', ['URI:spiffe://cluster.local/ns/foo/sa/sleep']);
const otherCert = pki.issue('other', 'other', ['URI:spiffe://cluster.local/ns/bar/sa/curl']);

const policy = (
  name: string,
  spec: string,
  ns = 'foo',
  annotations = '',
): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: ${ns}${annotations ? `, annotations: { ${annotations} }` : ''} }
spec:
${spec
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;

let backend: Backend;
let echo: Server;
let echoPort: number;

before(async () => {
  backend = await startBackend('httpbin');
  echo = createServer((s) => s.on('data', (d) => s.write(`echo ${d}`)).on('error', () => {}));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as any).port;
});

after(async () => {
  await backend.close();
  await new Promise((r) => echo.close(r));
  pki.cleanup();
});

/** Starts a proxy with the inbound chains for `yaml`, runs `body`, closes the proxy. */
async function withProxy(yaml: string[], body: (p: Proxy) => Promise<void>, tls = false): Promise<void> {
  const proxy = await serveInbound(
    inboundListeners(yaml),
    backend,
    echoPort,
    tls ? mtlsSocket(pki, serverCert) : null,
  );
  try {
    await body(proxy);
  } finally {
    await proxy.close();
  }
}

const status = async (path: string, opts: Parameters<typeof send>[2] = {}): Promise<number> =>
  (await send(8000, path, opts)).status;

describe('AuthorizationPolicy on a sidecar (HTTP)', () => {
  it('without a policy everything is allowed', async () => {
    await withProxy([], async () => assert.equal(await status('/admin'), 200));
  });

  it('spec: {} denies everything with 403 "RBAC: access denied"', async () => {
    await withProxy([policy('deny-all', '{}')], async (p) => {
      const r = await send(8000, '/ip');
      assert.deepEqual([r.status, r.body], [403, 'RBAC: access denied']);
      assert.match(
        (await admin(p, '/stats?filter=rbac')).body,
        /^http\.inbound_0\.0\.0\.0_8000\.rbac\.denied: 1$/m,
      );
    });
  });

  it('rules: [{}] allows everything', async () => {
    await withProxy([policy('allow-all', 'rules: [{}]')], async () => assert.equal(await status('/x'), 200));
  });

  it('DENY /admin* beats ALLOW, other paths pass; a policy in another namespace does not apply', async () => {
    const yaml = [
      policy('deny-admin', 'action: DENY\nrules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]'),
      policy('allow-all', 'rules: [{}]'),
      policy('elsewhere', '{}', 'bar'),
    ];
    await withProxy(yaml, async () => {
      assert.equal(await status('/admin'), 403);
      assert.equal(await status('/admin/users?x=1'), 403);
      assert.equal(await status('/public'), 200);
    });
  });

  it('ALLOW policies where none matches deny; methods, hosts, paths, notPaths, ports', async () => {
    const yaml = [
      policy(
        'allow-get',
        `rules:
- to: [{ operation: { methods: ["GET", "HEAD"], paths: ["/status/*", "/headers"], notPaths: ["/status/500"] } }]
- to: [{ operation: { methods: ["POST"], hosts: ["*.example.com"], ports: ["8000"] } }]`,
      ),
    ];
    await withProxy(yaml, async () => {
      assert.equal(await status('/status/200'), 200);
      assert.equal(await status('/headers'), 200);
      assert.equal(await status('/status/500'), 403);
      assert.equal(await status('/ip'), 403);
      assert.equal(await status('/status/200', { method: 'DELETE' }), 403);
      assert.equal(await status('/post', { method: 'POST', headers: { host: 'API.Example.com' } }), 200);
      assert.equal(await status('/post', { method: 'POST', headers: { host: 'example.org' } }), 403);
    });
  });

  it('path templates {*} and {**}', async () => {
    const yaml = [policy('tmpl', 'rules: [{ to: [{ operation: { paths: ["/store/{*}/items/{**}"] } }] }]')];
    await withProxy(yaml, async () => {
      assert.equal(await status('/store/1/items/a/b'), 200);
      assert.equal(await status('/store/1/2/items/a'), 403);
      assert.equal(await status('/store/1/other'), 403);
    });
  });

  it('when request.headers[...] values / notValues, source.ip, ipBlocks, remoteIpBlocks via X-Forwarded-For', async () => {
    const yaml = [
      policy(
        'hdr',
        `rules:
- when:
  - { key: "request.headers[x-token]", values: ["admin", "ops*"], notValues: ["ops-intern"] }
- from: [{ source: { remoteIpBlocks: ["203.0.113.0/24"] } }]
- from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }]`,
      ),
    ];
    await withProxy(yaml, async () => {
      assert.equal(await status('/', { headers: { 'x-token': 'admin' } }), 200);
      assert.equal(await status('/', { headers: { 'x-token': 'ops-1' } }), 200);
      assert.equal(await status('/', { headers: { 'x-token': 'ops-intern' } }), 403);
      assert.equal(await status('/'), 403);
      // A sidecar (use_remote_address false) takes the client from the last X-Forwarded-For entry.
      assert.equal(await status('/', { headers: { 'x-forwarded-for': '203.0.113.7' } }), 200);
      assert.equal(await status('/', { headers: { 'x-forwarded-for': '198.51.100.1' } }), 403);
    });
  });

  it('AUDIT never denies; a dry-run DENY only counts shadow_denied', async () => {
    const yaml = [
      policy('audit', 'action: AUDIT\nrules: [{ to: [{ operation: { paths: ["/a"] } }] }]'),
      policy(
        'dry',
        'action: DENY\nrules: [{ to: [{ operation: { paths: ["/a"] } }] }]',
        'foo',
        '"istio.io/dry-run": "true"',
      ),
    ];
    await withProxy(yaml, async (p) => {
      assert.equal(await status('/a'), 200);
      const s = (await admin(p, '/stats?filter=rbac')).body;
      assert.match(s, /rbac\.istio_dry_run_deny_shadow_denied: 1$/m);
    });
  });

  it('a CUSTOM policy whose provider is not defined denies what it matches: fail closed', async () => {
    const yaml = [
      policy(
        'ext',
        'action: CUSTOM\nprovider: { name: my-authz }\nrules: [{ to: [{ operation: { paths: ["/x"] } }] }]',
      ),
    ];
    await withProxy(yaml, async () => {
      assert.equal(await status('/x'), 403);
      assert.equal(await status('/y'), 200);
    });
  });
});

describe('AuthorizationPolicy principals with client certificates', () => {
  const ca = pki.ca.cert;
  it('principals, namespaces and notPrincipals match the verified SPIFFE identity', async () => {
    const yaml = [
      policy(
        'by-peer',
        `rules:
- from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }]
  to: [{ operation: { paths: ["/sleep-only"] } }]
- from: [{ source: { namespaces: ["bar"] } }]
  to: [{ operation: { paths: ["/bar-only"] } }]
- from: [{ source: { notPrincipals: ["*/sa/sleep"] } }]
  to: [{ operation: { paths: ["/not-sleep"] } }]
- from: [{ source: { serviceAccounts: ["sleep"] } }]
  to: [{ operation: { paths: ["/sa"] } }]`,
      ),
    ];
    await withProxy(
      yaml,
      async () => {
        assert.equal(await status('/sleep-only', { cert: sleepCert, ca }), 200);
        assert.equal(await status('/sleep-only', { cert: otherCert, ca }), 403);
        assert.equal(await status('/bar-only', { cert: otherCert, ca }), 200);
        assert.equal(await status('/bar-only', { cert: sleepCert, ca }), 403);
        assert.equal(await status('/not-sleep', { cert: otherCert, ca }), 200);
        assert.equal(await status('/not-sleep', { cert: sleepCert, ca }), 403);
        assert.equal(await status('/sa', { cert: sleepCert, ca }), 200);
        assert.equal(await status('/sa', { cert: otherCert, ca }), 403);
      },
      true,
    );
  });

  it('a plaintext request has no principal: a principal rule does not match it', async () => {
    const yaml = [policy('p', 'rules: [{ from: [{ source: { principals: ["*"] } }] }]')];
    await withProxy(yaml, async () => assert.equal(await status('/'), 403));
  });
});

describe('AuthorizationPolicy on TCP', () => {
  it('a denied connection is closed before reaching the app; allowed ones are proxied', async () => {
    const yaml = [policy('deny-tcp', 'action: DENY\nrules: [{ to: [{ operation: { ports: ["9000"] } }] }]')];
    await withProxy(yaml, async (p) => {
      assert.equal(await tcpExchange(9000, 'hi'), '');
      assert.match((await admin(p, '/stats?filter=rbac')).body, /^tcp\.rbac\.denied: 1$/m);
    });
    await withProxy([], async () => assert.equal(await tcpExchange(9000, 'hi'), 'echo hi'));
  });

  it('ALLOW with an HTTP-only field never matches on TCP; DENY with one matches by its other fields', async () => {
    await withProxy(
      [policy('allow-get', 'rules: [{ to: [{ operation: { methods: ["GET"] } }] }]')],
      async () => assert.equal(await tcpExchange(9000, 'hi'), ''),
    );
    const deny = policy(
      'deny',
      'action: DENY\nrules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }]',
    );
    await withProxy([deny], async () => {
      assert.equal(await tcpExchange(9000, 'hi'), '');
      assert.equal(await status('/'), 200);
    });
  });
});
