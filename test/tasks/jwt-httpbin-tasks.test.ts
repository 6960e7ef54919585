// Istio's "Authorization with JWT" task on httpbin, on one real local mesh: sleep calls httpbin through
// its sidecar; httpbin's sidecar verifies tokens (made here with jose) against a JWKS the test serves
// over HTTP (jwksUri, fetched by the proxy). No token 200, bad 401, expired 401; requestPrincipals ["*"]
// makes no-token 403; a request.auth.claims[groups] rule allows group1 only. Then the same on the
// ingress gateway (policies in istio-system selecting istio: ingressgateway), through the gateway.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  apply,
  applyYaml,
  cli,
  eventually,
  meshDown,
  meshUp,
  newMesh,
  podOf,
  request,
  waitPodReady,
  EXAMPLES,
  type Mesh,
} from './mesh.js';

const ISS = 'testing@secure.istio.io';
let mesh: Mesh | undefined;
let jwksServer: Server;
let jwksUri = '';
let sign: (claims: Record<string, unknown>, expSeconds?: number) => Promise<string>;
let forged = '';

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/** GET http://httpbin:8000/headers from the sleep pod, through its sidecar. */
function fromSleep(token?: string): Promise<{ status: number; body: string }> {
  return request('http://httpbin:8000/headers', {
    proxy: `${podOf(m(), 'sleep').podIp}:15001`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    timeoutMs: 10_000,
  });
}

/** Waits until `fromSleep(token)` answers `status` three times in a row (the policy reached the proxy). */
async function until(status: number, token?: string): Promise<{ status: number; body: string }> {
  let last = { status: 0, body: '' };
  let streak = 0;
  await eventually(
    `${token ? 'with token' : 'no token'} → ${status}`,
    async () => {
      last = await fromSleep(token);
      streak = last.status === status ? streak + 1 : 0;
      return streak >= 3;
    },
    30_000,
    100,
    () => `(last: ${last.status} ${last.body.slice(0, 120)})`,
  );
  return last;
}

describe("Istio's authorization with JWT task (httpbin)", { timeout: 600_000 }, () => {
  before(async () => {
    const key = await generateKeyPair('RS256', { extractable: true });
    const other = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'task', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const mk =
      (k: CryptoKey) =>
      (claims: Record<string, unknown>, expSeconds = 3600) =>
        new SignJWT({ iss: ISS, sub: ISS, ...claims })
          .setProtectedHeader({ alg: 'RS256', kid: 'task' })
          .setIssuedAt()
          .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
          .sign(k);
    sign = mk(key.privateKey);
    forged = await mk(other.privateKey)({});
    mesh = await newMesh();
    // Host network: the test's JWKS server listens on the host's 127.0.0.1, which a pod-mode
    // sidecar in its own network namespace cannot reach (as with httpbin-tasks' HTTP_PROXY client).
    await meshUp(mesh, `${EXAMPLES}httpbin`, ['--network', 'host']);
    await apply(mesh, 'sleep/sleep.yaml');
    await waitPodReady(mesh, 'sleep');
  });

  after(async () => {
    await meshDown(mesh);
    jwksServer.closeAllConnections();
    await new Promise((r) => jwksServer.close(r));
  });

  it('RequestAuthentication: no token 200, invalid 401 "Jwt verification fails", expired 401 "Jwt is expired", valid 200', async () => {
    await applyYaml(
      m(),
      `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: "jwt-example"
  namespace: default
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "${ISS}"
    jwksUri: "${jwksUri}"
`,
    );
    const bad = await until(401, forged);
    assert.equal(bad.body, 'Jwt verification fails');
    assert.equal((await fromSleep()).status, 200);
    const expired = await fromSleep(await sign({}, -3600));
    assert.deepEqual([expired.status, expired.body], [401, 'Jwt is expired']);
    const ok = await fromSleep(await sign({}));
    assert.equal(ok.status, 200, ok.body);
    // The token was verified and removed before the app (forwardOriginalToken is false).
    assert.ok(!/authorization/i.test(ok.body), ok.body);
  });

  it('require-jwt (requestPrincipals ["*"]): no token 403, a valid token 200', async () => {
    await applyYaml(
      m(),
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: default
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
       requestPrincipals: ["*"]
`,
    );
    const denied = await until(403);
    assert.equal(denied.body, 'RBAC: access denied');
    assert.equal((await fromSleep(await sign({}))).status, 200);
  });

  it('a request.auth.claims[groups] rule: group1 allowed, group2 denied', async () => {
    await applyYaml(
      m(),
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: default
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
       requestPrincipals: ["${ISS}/${ISS}"]
    when:
    - key: request.auth.claims[groups]
      values: ["group1"]
`,
    );
    const group2 = await sign({ groups: ['group2'] });
    await until(403, group2);
    assert.equal((await fromSleep(await sign({ groups: ['group1', 'group2'] }))).status, 200);
    assert.equal((await fromSleep()).status, 403);
  });

  /** GET /status/200 on httpbin.example.com through the ingress gateway (examples/httpbin/httpbin-gateway.yaml). */
  function viaGateway(token?: string): Promise<{ status: number; body: string }> {
    return request(`http://127.0.0.1:${m().gatewayPort}/status/200`, {
      headers: { host: 'httpbin.example.com', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      timeoutMs: 10_000,
    });
  }

  async function gatewayUntil(status: number, token?: string): Promise<{ status: number; body: string }> {
    let last = { status: 0, body: '' };
    let streak = 0;
    await eventually(
      `gateway ${token ? 'with token' : 'no token'} → ${status}`,
      async () => {
        last = await viaGateway(token);
        streak = last.status === status ? streak + 1 : 0;
        return streak >= 3;
      },
      30_000,
      100,
      () => `(last: ${last.status} ${last.body.slice(0, 120)})`,
    );
    return last;
  }

  const gatewayPolicy = (when: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt-ingress
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["${ISS}/${ISS}"]
${when}`;

  it('on the ingress gateway: RequestAuthentication + requestPrincipals: no token 403, invalid 401, valid 200', async () => {
    // The sidecar's policies go; the gateway's take over (its jwt_authn strips the token before httpbin).
    await cli(m(), ['delete', 'authorizationpolicy', 'require-jwt']);
    await cli(m(), ['delete', 'requestauthentication', 'jwt-example']);
    await apply(m(), 'httpbin/httpbin-gateway.yaml');
    await gatewayUntil(200);
    await applyYaml(
      m(),
      `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt-ingress
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: "${ISS}"
    jwksUri: "${jwksUri}"
`,
    );
    const bad = await gatewayUntil(401, forged);
    assert.equal(bad.body, 'Jwt verification fails');
    await applyYaml(m(), gatewayPolicy(''));
    const denied = await gatewayUntil(403);
    assert.equal(denied.body, 'RBAC: access denied');
    const ok = await viaGateway(await sign({}));
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await viaGateway(await sign({}, -3600))).body, 'Jwt is expired');
  });

  it('on the ingress gateway: a claim rule (request.auth.claims[groups]) admits group1 only', async () => {
    await applyYaml(
      m(),
      gatewayPolicy(`    when:
    - key: request.auth.claims[groups]
      values: ["group1"]
`),
    );
    await gatewayUntil(403, await sign({ groups: ['group2'] }));
    assert.equal((await viaGateway(await sign({ groups: ['group1'] }))).status, 200);
  });
});
