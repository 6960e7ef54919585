// AuthorizationPolicy CUSTOM end to end at proxy level, as in Istio's "External Authorization" task:
// MeshConfig extensionProviders + a CUSTOM policy → pilot's RBAC shadow + ext_authz filters (through
// the real Envoy protos) → a real proxy → a real HTTP and a real gRPC authorizer on loopback that allow
// a request carrying `x-ext-authz: allow` (Istio's ext-authz sample), deny otherwise.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { admin, startBackend, staticCluster, type Backend } from '../../proxy/test-util.js';
import type { Proxy } from '../../proxy/proxy.js';
import { envoyProtoDirs } from '../../xds/protos.js';
import { pushFromYaml } from '../test-util.js';
import { customWarnings } from './ext-authz-filters.js';
import { inboundListeners, serveInbound, tcpExchange, TEST_IP } from './test-util.js';

const DENY_BODY = 'denied by ext_authz for not found header `x-ext-authz: allow` in the request';

function mesh(providers: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
    extensionProviders:
${providers
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

const PROVIDERS = `- name: sample-ext-authz-http
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: "8000"
    includeRequestHeadersInCheck: ["x-ext-authz"]
    headersToUpstreamOnAllow: ["x-ext-authz-check-*"]
    headersToDownstreamOnDeny: ["x-ext-authz-check-result"]
    headersToDownstreamOnAllow: ["x-ext-authz-allowed-by"]
    includeAdditionalHeadersInCheck: { x-added-by-mesh: mizzen }
- name: sample-ext-authz-grpc
  envoyExtAuthzGrpc:
    service: ext-authz.foo.svc.cluster.local
    port: "9000"
- name: broken-fail-open
  envoyExtAuthzHttp:
    service: foo/ext-authz.foo.svc.cluster.local
    port: 8001
    failOpen: true
- name: broken-status
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8001
    statusOnError: "503"
- name: with-body
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8000
    includeRequestHeadersInCheck: ["x-ext-authz"]
    includeRequestBodyInCheck: { maxRequestBytes: 16, allowPartialMessage: true }`;

const EXT_AUTHZ_SERVICE = `apiVersion: v1
kind: Service
metadata: { name: ext-authz, namespace: foo }
spec:
  selector: { app: ext-authz }
  ports: [{ name: http, port: 8000 }, { name: http-down, port: 8001 }, { name: grpc, port: 9000 }]
`;

function customPolicy(provider: string, paths = '["/headers"]'): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ext-authz, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: CUSTOM
  provider: { name: ${provider} }
  rules:
  - to:
    - operation:
        paths: ${paths}
`;
}

let backend: Backend;
let httpAuthz: Backend;
let grpcServer: grpc.Server;
let grpcPort: number;
const grpcSeen: any[] = [];
let echo: TcpServer;
let echoPort = 1;
/** What the gRPC authorizer answers for a TCP connection (no HTTP attributes). */
let tcpVerdict: 'allow' | 'deny' = 'deny';

/** Istio's sample gRPC authorizer: allow with `x-ext-authz: allow`, else deny with 403. */
async function startGrpcAuthz(): Promise<void> {
  const def = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    includeDirs: envoyProtoDirs(),
    keepCase: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  grpcServer = new grpc.Server();
  grpcServer.addService(pkg.envoy.service.auth.v3.Authorization.service, {
    Check: (call: any, cb: any) => {
      grpcSeen.push(call.request);
      const http = call.request.attributes?.request?.http;
      const h = http?.headers ?? {};
      if (http ? h['x-ext-authz'] === 'allow' : tcpVerdict === 'allow')
        cb(null, {
          status: { code: 0 },
          ok_response: { headers: [{ header: { key: 'x-ext-authz-check-result', value: 'allowed' } }] },
        });
      else
        cb(null, {
          status: { code: 7 },
          denied_response: {
            status: { code: 'Forbidden' },
            body: DENY_BODY,
            headers: [{ header: { key: 'x-ext-authz-check-result', value: 'denied' } }],
          },
        });
    },
  });
  grpcPort = await new Promise<number>((res, rej) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? rej(e) : res(p),
    ),
  );
}

before(async () => {
  backend = await startBackend('httpbin');
  // Istio's sample HTTP authorizer.
  httpAuthz = await startBackend('ext-authz', (req, res) => {
    if (req.headers['x-ext-authz'] === 'allow') {
      res.writeHead(200, {
        'x-ext-authz-check-result': 'allowed',
        'x-ext-authz-check-received': `${req.method} ${req.url}`,
        'x-ext-authz-allowed-by': 'sample',
        'x-not-forwarded': 'secret',
      });
      res.end();
    } else {
      res.writeHead(403, { 'x-ext-authz-check-result': 'denied', 'x-other': 'hidden' });
      res.end(DENY_BODY);
    }
  });
  await startGrpcAuthz();
  echo = createTcpServer((c) => c.on('data', (d) => c.write(`echo ${d}`)).on('error', () => {}));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as any).port;
});

after(async () => {
  await backend.close();
  await httpAuthz.close();
  grpcServer.forceShutdown();
  await new Promise((r) => echo.close(r));
});

/** The outbound clusters of the authorizer service's ports; 8001 has nothing listening (a refused port). */
function authzClusters(): any[] {
  return [
    staticCluster('outbound|8000||ext-authz.foo.svc.cluster.local', [httpAuthz.port]),
    staticCluster('outbound|8001||ext-authz.foo.svc.cluster.local', [1]),
    staticCluster('outbound|9000||ext-authz.foo.svc.cluster.local', [grpcPort], {
      http2ProtocolOptions: {},
    }),
  ];
}

async function withProxy(yaml: string[], body: (p: Proxy) => Promise<void>): Promise<void> {
  const proxy = await serveInbound(inboundListeners(yaml), backend, echoPort, null, authzClusters());
  try {
    await body(proxy);
  } finally {
    await proxy.close();
  }
}

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: TEST_IP, port: 8000, path, method, headers, agent: false }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const yamlFor = (provider: string, paths?: string): string[] => [
  mesh(PROVIDERS),
  EXT_AUTHZ_SERVICE,
  customPolicy(provider, paths),
];

describe('AuthorizationPolicy CUSTOM with an HTTP authorizer (envoyExtAuthzHttp)', () => {
  it('pilot puts an RBAC shadow filter and ext_authz gated on its metadata before the other RBAC filters', () => {
    const ls = inboundListeners(yamlFor('sample-ext-authz-http'));
    const l = ls.find((x: any) => x.address.socketAddress.portValue === 8000) as any;
    const hcm = l.filterChains[0].filters.find((f: any) => f.name.includes('http_connection_manager'));
    const names = hcm.typedConfig.httpFilters.map((f: any) => f.name);
    const i = names.indexOf('envoy.filters.http.ext_authz');
    assert.equal(names[i - 1], 'envoy.filters.http.rbac');
    const rbac = hcm.typedConfig.httpFilters[i - 1].typedConfig;
    assert.deepEqual(Object.keys(rbac.shadowRules.policies), [
      'istio-ext-authz-sample-ext-authz-http-ns[foo]-policy[ext-authz]-rule[0]',
    ]);
    assert.equal(rbac.shadowRulesStatPrefix, 'istio_ext_authz_');
    const ea = hcm.typedConfig.httpFilters[i].typedConfig;
    assert.equal(ea.httpService.serverUri.cluster, 'outbound|8000||ext-authz.foo.svc.cluster.local');
    assert.deepEqual(ea.filterEnabledMetadata.value.stringMatch, {
      prefix: 'istio-ext-authz-sample-ext-authz-http',
    });
  });

  it("a matched path is checked: allow with x-ext-authz: allow, the authorizer's denial otherwise", async () => {
    await withProxy(yamlFor('sample-ext-authz-http'), async (p) => {
      const denied = await send('/headers', { 'x-ext-authz': 'deny' });
      assert.deepEqual([denied.status, denied.body], [403, DENY_BODY]);
      assert.equal(denied.headers['x-ext-authz-check-result'], 'denied');
      assert.equal(
        denied.headers['x-other'],
        undefined,
        'headersToDownstreamOnDeny limits the client headers',
      );

      const n = backend.seen.length;
      const ok = await send('/headers?x=1', { 'x-ext-authz': 'allow', 'x-private': 'p' });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['x-ext-authz-allowed-by'], 'sample', 'headersToDownstreamOnAllow');
      const up = backend.seen[n].headers;
      assert.equal(up['x-ext-authz-check-result'], 'allowed', 'headersToUpstreamOnAllow');
      assert.equal(up['x-ext-authz-check-received'], 'GET /headers?x=1');
      assert.equal(up['x-not-forwarded'], undefined);

      // The check carried the included header and the added one, not the others.
      const check = httpAuthz.seen[httpAuthz.seen.length - 1];
      assert.equal(check.headers['x-ext-authz'], 'allow');
      assert.equal(check.headers['x-added-by-mesh'], 'mizzen');
      assert.equal(check.headers['x-private'], undefined);
      assert.equal(check.headers['host'], `${TEST_IP}:8000`);

      // An unmatched path never reaches the authorizer.
      const checks = httpAuthz.seen.length;
      assert.equal((await send('/ip')).status, 200);
      assert.equal(httpAuthz.seen.length, checks);

      const stats = (await admin(p, '/stats?filter=ext_authz')).body;
      assert.match(stats, /ext_authz\.ok: 1$/m);
      assert.match(stats, /ext_authz\.denied: 1$/m);
    });
  });

  it('an unreachable authorizer: 403 (fail closed), statusOnError, or through with failOpen', async () => {
    await withProxy(yamlFor('broken-status'), async () => {
      assert.equal((await send('/headers', { 'x-ext-authz': 'allow' })).status, 503);
    });
    await withProxy(yamlFor('broken-fail-open'), async (p) => {
      assert.equal((await send('/headers')).status, 200);
      assert.match((await admin(p, '/stats?filter=ext_authz')).body, /failure_mode_allowed: 1$/m);
    });
  });

  it('includeRequestBodyInCheck sends the first maxRequestBytes of the body; the whole body goes upstream', async () => {
    await withProxy(yamlFor('with-body'), async () => {
      const body = 'a'.repeat(10) + 'b'.repeat(40);
      const r = await send(
        '/headers',
        { 'x-ext-authz': 'allow', 'content-type': 'text/plain' },
        'POST',
        body,
      );
      assert.equal(r.status, 200);
      assert.equal(httpAuthz.seen[httpAuthz.seen.length - 1].body.length >= 16, true);
      assert.equal(httpAuthz.seen[httpAuthz.seen.length - 1].body.slice(0, 10), 'a'.repeat(10));
      assert.equal(backend.seen[backend.seen.length - 1].body, body);
    });
  });
});

describe('AuthorizationPolicy CUSTOM with a gRPC authorizer (envoyExtAuthzGrpc)', () => {
  it('Check allows with x-ext-authz: allow (its headers go upstream) and denies with its status and body', async () => {
    await withProxy(yamlFor('sample-ext-authz-grpc'), async () => {
      const denied = await send('/headers', { 'x-ext-authz': 'deny' });
      assert.deepEqual([denied.status, denied.body], [403, DENY_BODY]);
      assert.equal(denied.headers['x-ext-authz-check-result'], 'denied');
      const n = backend.seen.length;
      const ok = await send('/headers', { 'x-ext-authz': 'allow' });
      assert.equal(ok.status, 200);
      assert.equal(backend.seen[n].headers['x-ext-authz-check-result'], 'allowed');
      const last = grpcSeen[grpcSeen.length - 1];
      assert.equal(last.attributes.request.http.path, '/headers');
      assert.equal(last.attributes.request.http.method, 'GET');
      assert.equal(last.attributes.request.http.headers[':authority'], `${TEST_IP}:8000`);
      assert.equal(last.attributes.destination.address.socket_address.port_value, 8000);
      assert.equal((await send('/ip')).status, 200);
    });
  });
});

describe('CUSTOM with a gRPC provider on TCP ports (network ext_authz)', () => {
  it('checks the connections its rules match: denied ones are closed (UAEX), allowed ones proxied', async () => {
    const yaml = yamlFor('sample-ext-authz-grpc', '[]').map((y) =>
      y.includes('kind: AuthorizationPolicy') ? y.replace('paths: []', 'ports: ["9000"]') : y,
    );
    assert.equal(
      customWarnings(pushFromYaml(...yaml)).filter((w) => w.includes('ext-authz')).length,
      0,
      'no warning for a gRPC provider on TCP',
    );
    await withProxy(yaml, async (p) => {
      tcpVerdict = 'deny';
      const before = grpcSeen.length;
      assert.equal(await tcpExchange(9000, 'hi'), '', 'a denied connection gets nothing back');
      const seen = grpcSeen.slice(before);
      assert.equal(seen.length, 1, 'one Check per connection');
      assert.ok(!seen[0].attributes.request, 'a TCP check carries no request attributes');
      assert.equal(seen[0].attributes.destination.address.socket_address.port_value, 9000);
      assert.equal(seen[0].attributes.destination.address.socket_address.address, TEST_IP);
      assert.match(seen[0].attributes.source.address.socket_address.address, /^127\./);
      assert.ok(seen[0].attributes.source.address.socket_address.port_value > 0);
      tcpVerdict = 'allow';
      assert.equal(await tcpExchange(9000, 'hi'), 'echo hi');
      const stats = (await admin(p, '/stats?filter=ext_authz')).body;
      assert.match(stats, /^tcp\.ext_authz\.denied: 1$/m, stats);
      assert.match(stats, /^tcp\.ext_authz\.ok: 1$/m, stats);
      assert.match(stats, /^tcp\.ext_authz\.cx_closed: 1$/m, stats);
      // HTTP on port 8000 is outside the rule: not checked.
      assert.equal((await send('/headers')).status, 200);
    });
  });

  it('connections no CUSTOM rule matches (another port) are not checked', async () => {
    tcpVerdict = 'deny';
    const yaml = yamlFor('sample-ext-authz-grpc', '[]').map((y) =>
      y.includes('kind: AuthorizationPolicy') ? y.replace('paths: []', 'ports: ["8000"]') : y,
    );
    await withProxy(yaml, async (p) => {
      const before = grpcSeen.length;
      const got = await tcpExchange(9000, 'hi');
      assert.equal(got, 'echo hi', (await admin(p, '/stats?filter=tcp')).body);
      assert.equal(grpcSeen.length, before, 'the authorizer was not asked');
      assert.match((await admin(p, '/stats?filter=ext_authz')).body, /^tcp\.ext_authz\.disabled: 1$/m);
    });
  });

  it('an unreachable authorizer closes the connection (fail closed)', async () => {
    const yaml = [
      mesh(`- name: grpc-down
  envoyExtAuthzGrpc:
    service: ext-authz.foo.svc.cluster.local
    port: 8001`),
      EXT_AUTHZ_SERVICE,
      customPolicy('grpc-down', '[]').replace('paths: []', 'ports: ["9000"]'),
    ];
    await withProxy(yaml, async (p) => {
      assert.equal(await tcpExchange(9000, 'hi'), '');
      assert.match((await admin(p, '/stats?filter=ext_authz')).body, /^tcp\.ext_authz\.error: 1$/m);
    });
  });
});

describe('CUSTOM problems fail closed and are reported', () => {
  it('an undefined provider denies what the rules match, and the server log says why', async () => {
    const yaml = yamlFor('no-such-provider');
    assert.match(customWarnings(pushFromYaml(...yaml)).join('\n'), /"no-such-provider" is not defined/);
    await withProxy(yaml, async () => {
      assert.deepEqual([(await send('/headers')).status, (await send('/ip')).status], [403, 200]);
    });
  });

  it('a provider field Mizzen does not enforce is warned about', () => {
    const push = pushFromYaml(
      mesh(`- name: x
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8000
    clearRouteCache: true`),
      EXT_AUTHZ_SERVICE,
    );
    assert.match(customWarnings(push).join('\n'), /extensionProviders x: clearRouteCache is not supported/);
  });
});
