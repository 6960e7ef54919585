// The mesh certificate authority (Istio's istiod CA): a signing certificate and key, its chain up to
// the root, and workload certificate issuance from CSRs. The signing CA is either a self-signed root
// made on first start and kept in the CA directory, or plugged in from Istio's `cacerts` files
// (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem), which may be an intermediate.
import { createPrivateKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaRootFiles, CaRootStore } from '../config/ca-root-store.js';
import { parseSpiffeId } from './spiffe.js';
import { TOKEN_KEY_FILE } from './token.js';
import { EC_P256, generateEcKeyPair, privateKeyPem, splitPemCertificates, x509 } from '../xds/x509.js';

/** Default workload certificate lifetime (Istio's DEFAULT_WORKLOAD_CERT_TTL), ms. */
export const DEFAULT_WORKLOAD_TTL_MS = 24 * 3600_000;
/** Longest workload certificate lifetime granted (Istio's MAX_WORKLOAD_CERT_TTL, 90 days), ms. */
export const MAX_WORKLOAD_TTL_MS = 90 * 24 * 3600_000;
/** Self-signed root lifetime (Istio: 10 years), ms. */
const ROOT_TTL_MS = 10 * 365 * 24 * 3600_000;
/** Certificates start this much in the past, for clock skew between hosts, ms. */
const BACKDATE_MS = 60_000;

/** The file names of Istio's `cacerts` Secret, used for both plugged and self-signed CAs. */
export const CA_FILES = {
  cert: 'ca-cert.pem',
  key: 'ca-key.pem',
  root: 'root-cert.pem',
  chain: 'cert-chain.pem',
} as const;

/** A request the CA refuses; `code` is the gRPC status it maps to. */
export class CaError extends Error {
  constructor(
    readonly code: 'INVALID_ARGUMENT' | 'PERMISSION_DENIED',
    message: string,
  ) {
    super(message);
  }
}

/** Where the CA came from. */
export type CaSource = 'generated' | 'files' | 'in memory' | 'shared';

/** Signs workload certificates. Immutable after load. */
export class CertificateAuthority {
  private constructor(
    /** The signing certificate (root, or an intermediate when plugged). */
    readonly signingCert: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
    private readonly signingAlg: Algorithm,
    /** PEMs from the signing certificate up to, not including, the root (empty when it is the root). */
    readonly intermediates: readonly string[],
    /** The trust anchor, PEM. */
    readonly rootPem: string,
    readonly source: CaSource,
  ) {}

  /**
   * Loads the CA from `dir` (plugged files, or a self-signed root kept there), or makes a self-signed
   * root and writes it there. `dir` null: a self-signed root in memory only. Throws naming the file.
   */
  static async load(dir: string | null, trustDomain: string): Promise<CertificateAuthority> {
    if (dir !== null && existsSync(join(dir, CA_FILES.cert))) return CertificateAuthority.fromFiles(dir);
    const made = await selfSignedRoot(trustDomain);
    if (dir !== null) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // The key first and exclusively: two servers starting on one directory keep one root.
      try {
        writeFileSync(join(dir, CA_FILES.key), made.files[CA_FILES.key], { flag: 'wx', mode: 0o600 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return CertificateAuthority.waitForFiles(dir);
        throw e;
      }
      for (const f of [CA_FILES.root, CA_FILES.chain, CA_FILES.cert])
        writeFileSync(join(dir, f), made.files[f]);
    }
    const source: CaSource = dir === null ? 'in memory' : 'generated';
    return new CertificateAuthority(made.cert, made.key, EC_P256, [], made.files[CA_FILES.root], source);
  }

  /**
   * The root shared by every replica of the control plane (`mizzen server --etcd`): the stored one,
   * else a self-signed root offered to the store, which keeps the first replica's when two race.
   */
  static async loadShared(store: CaRootStore, trustDomain: string): Promise<CertificateAuthority> {
    let files = await store.load();
    let source: CaSource = 'shared';
    if (files === null) {
      const made = await selfSignedRoot(trustDomain);
      // The local-token key travels with the root: a pod token then verifies on every replica.
      const offered = { ...made.files, [TOKEN_KEY_FILE]: randomBytes(32).toString('base64') };
      files = await store.createIfAbsent(offered);
      if (files[CA_FILES.key] === made.files[CA_FILES.key]) source = 'generated';
    }
    return CertificateAuthority.fromPems(
      (f) => files[f] ?? null,
      (f) => `${store.description}: ${f}`,
      source,
    );
  }

  private static async waitForFiles(dir: string): Promise<CertificateAuthority> {
    for (let i = 0; i < 100 && !existsSync(join(dir, CA_FILES.cert)); i++)
      await new Promise((r) => setTimeout(r, 20));
    return CertificateAuthority.fromFiles(dir);
  }

  /** Reads ca-cert.pem and ca-key.pem (required), root-cert.pem and cert-chain.pem (optional) from `dir`. */
  private static fromFiles(dir: string): Promise<CertificateAuthority> {
    return CertificateAuthority.fromPems(
      (f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null),
      (f) => join(dir, f),
      'files',
    );
  }

  /** The CA from its files by name (`text` null = absent); errors name the file with `where`. */
  private static async fromPems(
    text: (file: string) => string | null,
    where: (file: string) => string,
    source: CaSource,
  ): Promise<CertificateAuthority> {
    const read = (f: string, required: boolean): string | null => {
      const t = text(f);
      if (t === null && required)
        throw new Error(`${where(f)}: missing (a CA needs ${CA_FILES.cert} and ${CA_FILES.key})`);
      return t;
    };
    const certPem = read(CA_FILES.cert, true)!;
    const keyPem = read(CA_FILES.key, true)!;
    const certs = splitPemCertificates(certPem);
    if (certs.length === 0) throw new Error(`${where(CA_FILES.cert)}: no PEM certificate`);
    const signing = new X509Certificate(certs[0]);
    if (!signing.ca)
      throw new Error(`${where(CA_FILES.cert)}: not a CA certificate (basicConstraints CA:FALSE)`);
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch (e) {
      throw new Error(`${where(CA_FILES.key)}: ${(e as Error).message}`);
    }
    if (!signing.checkPrivateKey(key))
      throw new Error(`${where(CA_FILES.key)}: does not match the public key of ${CA_FILES.cert}`);
    const rootPem = read(CA_FILES.root, false) ?? certs[0];
    const root = new X509Certificate(splitPemCertificates(rootPem)[0] ?? rootPem);
    const chainPem = read(CA_FILES.chain, false) ?? certs[0];
    // The chain from the signing certificate up to the root, without the root itself.
    const chain = splitPemCertificates(chainPem).filter((c) => !new X509Certificate(c).raw.equals(root.raw));
    if (chain.length === 0 || !new X509Certificate(chain[0]).raw.equals(signing.raw)) chain.unshift(certs[0]);
    const last = new X509Certificate(chain[chain.length - 1]);
    if (!last.raw.equals(root.raw) && !last.verify(root.publicKey))
      throw new Error(`${where(CA_FILES.chain)}: the chain does not lead to ${CA_FILES.root}`);
    const { alg, cryptoKey } = await importSigningKey(key);
    const self = signing.raw.equals(root.raw);
    return new CertificateAuthority(
      new x509.X509Certificate(signing.raw),
      cryptoKey,
      alg,
      self ? [] : chain,
      splitPemCertificates(rootPem)[0] ?? rootPem,
      source,
    );
  }

  /**
   * Signs a workload certificate for `identity` (a SPIFFE URI) from a PEM CSR. The CSR must be
   * self-signed correctly and ask for exactly one URI SAN naming the same namespace and service
   * account; the certificate carries `identity`, so the mesh's trust domain wins over the one the
   * proxy asked for (Istio's CA, too, takes the identity from the caller, not from the CSR).
   * Returns the chain: leaf, intermediates, root.
   */
  async sign(csrPem: string, identity: string, ttlMs: number): Promise<string[]> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      throw new CaError('INVALID_ARGUMENT', `the CSR is not a PEM PKCS#10 request: ${(e as Error).message}`);
    }
    if (!(await csr.verify())) throw new CaError('INVALID_ARGUMENT', 'the CSR signature does not verify');
    const wanted = csrUris(csr);
    if (wanted.length !== 1 || !sameWorkload(wanted[0], identity))
      throw new CaError(
        'PERMISSION_DENIED',
        `the CSR asks for ${wanted.length ? wanted.join(', ') : 'no URI SAN'}, but the caller may only have ${identity}`,
      );
    const ttl = Math.min(ttlMs > 0 ? ttlMs : DEFAULT_WORKLOAD_TTL_MS, MAX_WORKLOAD_TTL_MS);
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: '',
      issuer: this.signingCert.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + ttl),
      publicKey: csr.publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: this.signingAlg,
      extensions: [
        // Istio's workload certificates: empty subject, so the SAN is critical.
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity }], true),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(this.signingCert),
      ],
    });
    return [leaf.toString('pem') + '\n', ...this.intermediates, this.rootPem];
  }
}

/** A new self-signed root (Istio's self-signed istiod CA: O=<trust domain>, 10 years) as cacerts files. */
async function selfSignedRoot(
  trustDomain: string,
): Promise<{ cert: x509.X509Certificate; key: CryptoKey; files: CaRootFiles }> {
  const keys = await generateEcKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=${trustDomain}`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + ROOT_TTL_MS),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = cert.toString('pem') + '\n';
  const files = {
    [CA_FILES.key]: await privateKeyPem(keys.privateKey),
    [CA_FILES.cert]: pem,
    [CA_FILES.root]: pem,
    [CA_FILES.chain]: pem,
  };
  return { cert, key: keys.privateKey, files };
}

/** True when the SPIFFE ids name one namespace and service account (trust domains may differ). */
function sameWorkload(asked: string, identity: string): boolean {
  if (asked === identity) return true;
  const a = parseSpiffeId(asked);
  const b = parseSpiffeId(identity);
  return a !== null && b !== null && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}

/** URI SANs a CSR asks for. */
function csrUris(csr: x509.Pkcs10CertificateRequest): string[] {
  const ext = csr.extensions.find(
    (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
  );
  return ext ? ext.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
}

/** A positive random 128-bit serial number, hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b.toString('hex');
}

/** The WebCrypto form of a plugged CA key (RSA or EC), with its signature algorithm. */
async function importSigningKey(key: KeyObject): Promise<{ alg: Algorithm; cryptoKey: CryptoKey }> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  let alg: Algorithm;
  if (key.asymmetricKeyType === 'rsa') alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm;
  else if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : null;
    if (!namedCurve)
      throw new Error(`${CA_FILES.key}: EC curve ${curve} is not supported (use P-256 or P-384)`);
    alg = { name: 'ECDSA', namedCurve, hash: namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } as Algorithm;
  } else throw new Error(`${CA_FILES.key}: ${key.asymmetricKeyType} keys are not supported (use RSA or EC)`);
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  return { alg, cryptoKey: cryptoKey };
}
