// RequestAuthentication end to end at proxy level: YAML → pilot's jwt_authn (+ RBAC) filters through the
// real protos → a real proxy; tokens and key sets made here with jose; JWKS served over HTTP by the test.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { admin, startBackend, type Backend } from '../../proxy/test-util.js';
import type { Proxy } from '../../proxy/proxy.js';
import { inboundListeners, send, serveInbound, TEST_IP } from '../authz/test-util.js';

const ISS = 'testing@secure.istio.io';

interface Signer {
  readonly alg: string;
  readonly key: CryptoKey | Uint8Array;
  readonly jwk: JWK;
}

async function signer(alg: string, kid: string, opts: Record<string, unknown> = {}): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...opts });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, key: privateKey, jwk };
}

async function token(s: Signer, claims: Record<string, unknown> = {}, expSeconds = 3600): Promise<string> {
  return new SignJWT({ sub: ISS, ...claims })
    .setProtectedHeader({ alg: s.alg, kid: s.jwk.kid })
    .setIssuer((claims.iss as string) ?? ISS)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
    .sign(s.key);
}

const ra = (rule: string, name = 'jwt'): string => `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: ${name}, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: "${ISS}"
${rule
  .split('\n')
  .filter((l) => l)
  .map((l) => `    ${l}`)
  .join('\n')}
`;

let rs: Signer;
let es: Signer;
let ps: Signer;
let ed: Signer;
let es384: Signer;
let other: Signer;
let hs: Signer;
let jwks: string;
let backend: Backend;

before(async () => {
  [rs, es, ps, ed, es384, other] = await Promise.all([
    signer('RS256', 'rs'),
    signer('ES256', 'es'),
    signer('PS256', 'ps'),
    signer('EdDSA', 'ed', { crv: 'Ed25519' }),
    signer('ES384', 'es384'),
    signer('RS256', 'rs'), // same kid, other key: a forged signature
  ]);
  const secret = new Uint8Array(randomBytes(32));
  hs = {
    alg: 'HS256',
    key: secret,
    jwk: { kty: 'oct', k: base64url.encode(secret), kid: 'hs', alg: 'HS256' },
  };
  jwks = JSON.stringify({ keys: [rs.jwk, es.jwk, ps.jwk, ed.jwk, es384.jwk, hs.jwk] });
  backend = await startBackend('httpbin');
});

after(async () => backend.close());

async function withProxy(yaml: string[], body: (p: Proxy) => Promise<void>): Promise<void> {
  const proxy = await serveInbound(inboundListeners(yaml), backend, 1);
  try {
    await body(proxy);
  } finally {
    await proxy.close();
  }
}

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
const get = (path: string, headers: Record<string, string> = {}) => send(8000, path, { headers });

describe('RequestAuthentication with inline jwks (Istio semantics)', () => {
  it('no token passes; a valid token passes; bad ones get 401 with Envoy bodies', async () => {
    await withProxy([ra(`jwks: '${jwks}'`)], async (p) => {
      assert.equal((await get('/headers')).status, 200);
      for (const s of [rs, es, ps, ed, es384, hs])
        assert.equal((await get('/headers', bearer(await token(s)))).status, 200, s.alg);
      const cases: [string, string][] = [
        [await token(other), 'Jwt verification fails'],
        [await token(rs, {}, -3600), 'Jwt is expired'],
        [await token(rs, { iss: 'someone-else' }), 'Jwt issuer is not configured'],
        ['deadbeef', 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
      ];
      for (const [t, body] of cases) {
        const r = await get('/headers', bearer(t));
        assert.deepEqual([r.status, r.body], [401, body]);
      }
      const s = (await admin(p, '/stats?filter=jwt_authn')).body;
      assert.match(s, /jwt_authn\.denied: 4$/m);
    });
  });

  it('audiences: a token for another audience is refused', async () => {
    await withProxy([ra(`jwks: '${jwks}'\naudiences: ["httpbin"]`)], async () => {
      assert.equal((await get('/', bearer(await token(rs, { aud: 'httpbin' })))).status, 200);
      const r = await get('/', bearer(await token(rs, { aud: ['other'] })));
      assert.deepEqual([r.status, r.body], [401, 'Audiences in Jwt are not allowed']);
    });
  });

  it('the token is removed before the app unless forwardOriginalToken; payload and claims go to headers', async () => {
    const rule = `jwks: '${jwks}'
outputPayloadToHeader: x-jwt-payload
outputClaimToHeaders: [{ header: x-group, claim: org.group }, { header: x-sub, claim: sub }]`;
    await withProxy([ra(rule)], async () => {
      const t = await token(rs, { org: { group: 'eng' } });
      assert.equal((await get('/', { ...bearer(t), 'x-sub': 'spoofed' })).status, 200);
      const h = backend.seen[backend.seen.length - 1].headers;
      assert.equal(h.authorization, undefined);
      assert.equal(h['x-group'], 'eng');
      assert.equal(h['x-sub'], ISS);
      assert.equal(
        JSON.parse(Buffer.from(String(h['x-jwt-payload']), 'base64url').toString()).org.group,
        'eng',
      );
    });
    await withProxy([ra(`jwks: '${jwks}'\nforwardOriginalToken: true`)], async () => {
      const t = await token(es);
      assert.equal((await get('/', bearer(t))).status, 200);
      assert.equal(backend.seen[backend.seen.length - 1].headers.authorization, `Bearer ${t}`);
    });
  });

  it('fromHeaders with a prefix, fromParams and fromCookies', async () => {
    const rule = `jwks: '${jwks}'
fromHeaders: [{ name: x-jwt-assertion, prefix: "Token " }]
fromParams: [my_token]
fromCookies: [session]`;
    await withProxy([ra(rule)], async () => {
      const good = await token(rs);
      const bad = await token(other);
      assert.equal((await get('/', { 'x-jwt-assertion': `Token ${good}` })).status, 200);
      assert.equal((await get('/', { 'x-jwt-assertion': `Token ${bad}` })).status, 401);
      assert.equal((await get(`/?my_token=${good}`)).status, 200);
      assert.equal((await get(`/?my_token=${bad}`)).status, 401);
      assert.equal((await get('/', { cookie: `a=b; session=${good}` })).status, 200);
      assert.equal((await get('/', { cookie: `session=${bad}` })).status, 401);
      // Authorization is not a configured location here, so a bad bearer token is not looked at.
      assert.equal((await get('/', bearer(bad))).status, 200);
    });
  });
});

describe('RequestAuthentication with AuthorizationPolicy (Istio JWT task)', () => {
  const ap = (name: string, spec: string): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
${spec}
`;
  it('requestPrincipals ["*"] makes a request without token 403; claims[groups] allows one group', async () => {
    const require = ap('require-jwt', '  rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }]');
    await withProxy([ra(`jwks: '${jwks}'`), require], async () => {
      const r = await get('/headers');
      assert.deepEqual([r.status, r.body], [403, 'RBAC: access denied']);
      assert.equal((await get('/headers', bearer(await token(rs)))).status, 200);
    });
    const group = ap(
      'group1',
      `  rules:
  - from: [{ source: { requestPrincipals: ["${ISS}/${ISS}"] } }]
    when: [{ key: "request.auth.claims[groups]", values: ["group1"] }]
  - to: [{ operation: { paths: ["/nested"] } }]
    when: [{ key: "request.auth.claims[org][team]", values: ["blue"] }]`,
    );
    await withProxy([ra(`jwks: '${jwks}'`), group], async () => {
      assert.equal((await get('/', bearer(await token(rs, { groups: ['group1', 'group2'] })))).status, 200);
      assert.equal((await get('/', bearer(await token(rs, { groups: ['group2'] })))).status, 403);
      assert.equal((await get('/', bearer(await token(rs, { groups: 'group1' })))).status, 200);
      assert.equal((await get('/nested', bearer(await token(rs, { org: { team: 'blue' } })))).status, 200);
      assert.equal((await get('/nested', bearer(await token(rs, { org: { team: 'red' } })))).status, 403);
      assert.equal(
        (await get('/', bearer(await token(rs, { sub: 'someone', groups: ['group1'] })))).status,
        403,
      );
    });
  });
});

describe('RequestAuthentication with jwksUri (fetched by the proxy)', () => {
  let jwksServer: Server;
  let jwksPort: number;
  let fetches = 0;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';

  before(async () => {
    jwksServer = createServer((req, res) => {
      fetches++;
      if (mode === 'hang') return; // never answers: the fetch times out
      if (mode === 'fail') {
        res.writeHead(503).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksPort = (jwksServer.address() as AddressInfo).port;
  });
  after(async () => {
    jwksServer.closeAllConnections();
    await new Promise((r) => jwksServer.close(r));
  });

  it('fetches once and caches; an unreachable JWKS gives 401 "Jwks remote fetch is failed" and a stat', async () => {
    mode = 'ok';
    fetches = 0;
    await withProxy([ra(`jwksUri: "http://127.0.0.1:${jwksPort}/jwks.json"`)], async () => {
      const t = await token(rs);
      const rs1 = await Promise.all([get('/', bearer(t)), get('/', bearer(t)), get('/', bearer(t))]);
      assert.deepEqual(
        rs1.map((r) => r.status),
        [200, 200, 200],
      );
      assert.equal(fetches, 1);
    });
    mode = 'fail';
    await withProxy([ra(`jwksUri: "http://127.0.0.1:${jwksPort}/jwks.json"`)], async (p) => {
      const r = await get('/', bearer(await token(rs)));
      assert.deepEqual([r.status, r.body], [401, 'Jwks remote fetch is failed']);
      assert.equal((await get('/')).status, 200, 'no token still passes');
      assert.match((await admin(p, '/stats?filter=jwt_authn')).body, /jwt_authn\.jwks_fetch_failed: 1$/m);
    });
  });

  it('a client that leaves while keys are being fetched does not disturb the proxy', async () => {
    mode = 'hang';
    await withProxy([ra(`jwksUri: "http://127.0.0.1:${jwksPort}/jwks.json"\ntimeout: 1s`)], async () => {
      const t = await token(rs);
      await new Promise<void>((resolve) => {
        const s = connect(8000, TEST_IP, () => {
          s.write(`GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t}\r\n\r\n`);
          setImmediate(() => s.destroy());
        });
        s.on('close', () => resolve());
        s.on('error', () => {});
      });
      const r = await get('/', bearer(t));
      assert.deepEqual([r.status, r.body], [401, 'Jwks remote fetch is failed']);
      mode = 'ok';
      assert.equal((await get('/')).status, 200);
    });
  });
});
