// The CA on real keys and certificates: a kept self-signed root, a plugged intermediate (Istio cacerts),
// identity checks on CSRs, local tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC_P256, generateEcKeyPair, privateKeyPem, x509 } from '../xds/x509.js';
import { CA_FILES, CaError, CertificateAuthority } from './authority.js';
import { ensureLocalTokenKey, issueLocalToken, LocalTokenAuthenticator } from './token.js';

async function csrFor(uri: string): Promise<string> {
  const keys = await generateEcKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: EC_P256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }])],
  });
  return csr.toString('pem');
}

const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';

test('a self-signed root is made on first start, kept in the directory and reused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-ca-'));
  try {
    const a = await CertificateAuthority.load(dir, 'cluster.local');
    assert.equal(a.source, 'generated');
    const b = await CertificateAuthority.load(dir, 'cluster.local');
    assert.equal(b.source, 'files');
    assert.equal(b.rootPem, a.rootPem);
    const chain = await b.sign(await csrFor(SLEEP), SLEEP, 3_600_000);
    assert.equal(chain.length, 2);
    const leaf = new X509Certificate(chain[0]);
    const root = new X509Certificate(a.rootPem);
    assert.ok(leaf.verify(root.publicKey), 'the leaf is signed by the kept root');
    assert.equal(leaf.subjectAltName, `URI:${SLEEP}`);
    assert.ok(!leaf.ca);
    const hours = (Date.parse(leaf.validTo) - Date.now()) / 3_600_000;
    assert.ok(hours > 0.9 && hours <= 1, `lifetime as requested, got ${hours} h`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a plugged intermediate (cacerts) signs; the chain runs leaf → intermediate → root', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-cacerts-'));
  try {
    const rootKeys = await generateEcKeyPair();
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'O=Example Root',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys: rootKeys,
      signingAlgorithm: EC_P256,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const interKeys = await generateEcKeyPair();
    const inter = await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: 'O=Example Intermediate',
      issuer: root.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      publicKey: interKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: EC_P256,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    });
    writeFileSync(join(dir, CA_FILES.cert), inter.toString('pem'));
    writeFileSync(join(dir, CA_FILES.key), await privateKeyPem(interKeys.privateKey));
    writeFileSync(join(dir, CA_FILES.root), root.toString('pem'));
    writeFileSync(join(dir, CA_FILES.chain), inter.toString('pem') + '\n' + root.toString('pem'));
    const ca = await CertificateAuthority.load(dir, 'cluster.local');
    assert.equal(ca.intermediates.length, 1);
    const chain = await ca.sign(await csrFor(SLEEP), SLEEP, 0);
    assert.equal(chain.length, 3);
    const [leaf, mid, top] = chain.map((c) => new X509Certificate(c));
    assert.ok(leaf.verify(mid.publicKey));
    assert.ok(mid.verify(top.publicKey));
    assert.equal(top.subject, 'O=Example Root');
    const hours = (Date.parse(leaf.validTo) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, 'default lifetime 24 h');

    // A key that does not belong to the certificate is refused, naming the file.
    writeFileSync(join(dir, CA_FILES.key), await privateKeyPem((await generateEcKeyPair()).privateKey));
    await assert.rejects(CertificateAuthority.load(dir, 'cluster.local'), /ca-key\.pem: does not match/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CSR asking for another identity is refused with PERMISSION_DENIED', async () => {
  const ca = await CertificateAuthority.load(null, 'cluster.local');
  await assert.rejects(
    ca.sign(await csrFor('spiffe://cluster.local/ns/foo/sa/httpbin'), SLEEP, 0),
    (e: unknown) => e instanceof CaError && e.code === 'PERMISSION_DENIED',
  );
  await assert.rejects(
    ca.sign('not a csr', SLEEP, 0),
    (e: unknown) => e instanceof CaError && e.code === 'INVALID_ARGUMENT',
  );
});

test("the certificate carries the mesh's trust domain, whatever trust domain the CSR asked for", async () => {
  const ca = await CertificateAuthority.load(null, 'corp.example');
  const meshId = 'spiffe://corp.example/ns/foo/sa/sleep';
  const chain = await ca.sign(await csrFor(SLEEP), meshId, 0);
  assert.equal(new X509Certificate(chain[0]).subjectAltName, `URI:${meshId}`);
  await assert.rejects(
    ca.sign(await csrFor('spiffe://corp.example/ns/foo/sa/httpbin'), meshId, 0),
    (e: unknown) => e instanceof CaError && e.code === 'PERMISSION_DENIED',
    'another service account under the right trust domain is still refused',
  );
});

test('local tokens prove namespace and service account; another key or a garbled token is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-tok-'));
  try {
    const key = ensureLocalTokenKey(dir);
    assert.deepEqual(ensureLocalTokenKey(dir), key, 'the key is kept');
    const token = await issueLocalToken(key, { namespace: 'foo', serviceAccount: 'sleep', pod: 'sleep-0' });
    const caller = await new LocalTokenAuthenticator(key).authenticate(token);
    assert.deepEqual(caller, { namespace: 'foo', serviceAccount: 'sleep', pod: 'sleep-0' });
    await assert.rejects(new LocalTokenAuthenticator(Buffer.alloc(32, 1)).authenticate(token));
    await assert.rejects(new LocalTokenAuthenticator(key).authenticate(token.slice(0, -3) + 'abc'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
