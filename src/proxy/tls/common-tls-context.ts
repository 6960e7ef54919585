// envoy.extensions.transport_sockets.tls.v3.CommonTlsContext compiled for Node's TLS: certificates
// (inline, files or SDS), validation (trusted CA, SAN matchers, SPKI/hash pins; inline or SDS), TLS
// versions, cipher suites, curves and ALPN. SDS-backed contexts rebuild when a secret changes.
import { createHash, X509Certificate } from 'node:crypto';
import { createSecureContext, type PeerCertificate, type SecureContext, type SecureVersion } from 'node:tls';
import type {
  envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext as CertificateValidationContext,
  envoy_extensions_transport_sockets_tls_v3_CommonTlsContext as CommonTlsContextConfig,
  envoy_extensions_transport_sockets_tls_v3_TlsCertificate as TlsCertificate,
  envoy_extensions_transport_sockets_tls_v3_TlsParameters_TlsProtocol as TlsProtocol,
} from '../../xds/envoy-types.js';
import { StringMatcher } from '../matchers/string-matcher.js';
import { readDataSource } from './data-source.js';
import type { SecretLookup } from './secret-manager.js';

/** Options of the context the caller (upstream or downstream) decides. */
export interface TlsContextDefaults {
  /** Envoy's versions when tls_params leaves them unset. */
  readonly min: SecureVersion;
  readonly max: SecureVersion;
  /** OpenSSL option bits (e.g. SSL_OP_NO_RENEGOTIATION); 0 when unset. */
  readonly secureOptions?: number;
}

/**
 * Fields of CommonTlsContext, TlsParameters, TlsCertificate and CertificateValidationContext this proxy
 * does not implement: refused when set (to anything but their default), naming the field.
 */
function refuseUnsupported(where: string, o: object, fields: readonly string[]): void {
  const rec = o as Record<string, unknown>;
  for (const f of fields) {
    const v = rec[f];
    const set =
      v !== undefined &&
      v !== null &&
      v !== false &&
      v !== '' &&
      !(Array.isArray(v) && v.length === 0) &&
      !(typeof v === 'object' && !Array.isArray(v) && 'value' in v && v.value === false) &&
      !(f === 'trustChainVerification' && v === 'VERIFY_TRUST_CHAIN');
    if (set) throw new Error(`${where}.${f} is not supported by this proxy`);
  }
}

const COMMON_UNSUPPORTED = [
  'tlsCertificateProviderInstance',
  'tlsCertificateCertificateProvider',
  'tlsCertificateCertificateProviderInstance',
  'validationContextCertificateProvider',
  'validationContextCertificateProviderInstance',
  'customHandshaker',
  'keyLog',
] as const;
const COMBINED_UNSUPPORTED = [
  'validationContextCertificateProvider',
  'validationContextCertificateProviderInstance',
] as const;
const CERT_UNSUPPORTED = [
  'pkcs12',
  'watchedDirectory',
  'privateKeyProvider',
  'password',
  'ocspStaple',
  'signedCertificateTimestamp',
] as const;
// watchedDirectory: files are read once, when the config (or secret) is applied, never re-read.
const VALIDATION_UNSUPPORTED = [
  'caCertificateProviderInstance',
  'systemRootCerts',
  'watchedDirectory',
  'requireSignedCertificateTimestamp',
  'allowExpiredCertificate',
  'trustChainVerification',
  'customValidatorConfig',
  'onlyVerifyLeafCertCrl',
  'maxVerifyDepth',
] as const;

/** A TlsCertificate's chain and key. Throws naming the field. */
export function readTlsCertificate(c: TlsCertificate, where: string): { cert: Buffer; key: Buffer } {
  refuseUnsupported(where, c, CERT_UNSUPPORTED);
  const cert = readDataSource(c.certificateChain, `${where}.certificateChain`);
  const key = readDataSource(c.privateKey, `${where}.privateKey`);
  if (!cert) throw new Error(`${where}.certificateChain: missing`);
  if (!key) throw new Error(`${where}.privateKey: missing`);
  return { cert, key };
}

const VERSIONS: Record<string, SecureVersion | undefined> = {
  TLS_AUTO: undefined,
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

/** TLS 1.3 suites Envoy (BoringSSL) always offers; Envoy's cipher_suites only govern TLS <= 1.2. */
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** One SAN matcher: the SAN type it applies to ('' = any) and the value matcher. */
interface SanRule {
  readonly type: string;
  readonly matcher: StringMatcher;
}

/** Validation settings: trusted CA, SAN rules and certificate pins. */
interface Validation {
  readonly ca: Buffer | null;
  /** Certificate revocation list (PEM), or null. */
  readonly crl: Buffer | null;
  readonly sans: readonly SanRule[];
  /** Base64 SHA-256 of the SubjectPublicKeyInfo. */
  readonly spki: readonly string[];
  /** Lower-case hex SHA-256 of the certificate DER. */
  readonly hashes: readonly string[];
}

const NO_VALIDATION: Validation = { ca: null, crl: null, sans: [], spki: [], hashes: [] };

/** A usable TLS configuration: the secure context plus the checks Node does not do itself. */
export class ResolvedTls {
  constructor(
    readonly context: SecureContext,
    /** A trusted CA is configured: the peer's chain must verify. */
    readonly verifyChain: boolean,
    private readonly validation: Validation,
  ) {}

  /** True when SAN rules or pins must be checked after the handshake. */
  get hasPeerChecks(): boolean {
    const v = this.validation;
    return v.sans.length > 0 || v.spki.length > 0 || v.hashes.length > 0;
  }

  /** Why the peer certificate is not acceptable, or null when it is (SAN rules, SPKI and hash pins). */
  checkPeer(cert: PeerCertificate | null | undefined): string | null {
    const v = this.validation;
    if (!this.hasPeerChecks) return null;
    if (!cert || !cert.raw) return 'no peer certificate';
    if (v.sans.length > 0) {
      const sans = subjectAltNames(cert.subjectaltname ?? '');
      const ok = v.sans.some((r) =>
        sans.some((s) => (r.type === '' || r.type === s.type) && r.matcher.match(s.value)),
      );
      if (!ok) return `SAN ${cert.subjectaltname ?? '(none)'} matches no subjectAltNames rule`;
    }
    if (v.hashes.length > 0) {
      const h = createHash('sha256').update(cert.raw).digest('hex');
      if (!v.hashes.includes(h)) return 'certificate hash is not pinned';
    }
    if (v.spki.length > 0) {
      const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
      if (!v.spki.includes(createHash('sha256').update(spki).digest('base64'))) return 'SPKI is not pinned';
    }
    return null;
  }
}

/** A compiled CommonTlsContext. */
export class CommonTlsContext {
  /** ALPN protocols offered (client) or accepted (server), in preference order. */
  readonly alpn: readonly string[];
  /** SDS secret names this context reads. */
  readonly sdsNames: readonly string[];
  private readonly staticCerts: ReadonlyArray<{ cert: Buffer; key: Buffer }>;
  private readonly certNames: readonly string[];
  private readonly staticValidation: Validation | null;
  private readonly validationName: string | null;
  private readonly minVersion: SecureVersion | undefined;
  private readonly maxVersion: SecureVersion | undefined;
  private readonly ciphers: string | undefined;
  private readonly curves: string | undefined;
  private readonly secureOptions: number;
  private cache: { generation: number; value: ResolvedTls | Error } | null = null;

  /**
   * Compiles a canonical CommonTlsContext (files are read now). `defaults` are the versions Envoy uses
   * when tls_params leaves them unset. Throws Error naming the field.
   */
  constructor(
    config: CommonTlsContextConfig | null | undefined,
    private readonly secrets: SecretLookup | null,
    defaults: TlsContextDefaults,
  ) {
    const common: CommonTlsContextConfig = config ?? {};
    refuseUnsupported('commonTlsContext', common, COMMON_UNSUPPORTED);
    this.secureOptions = defaults.secureOptions ?? 0;
    this.alpn = (common.alpnProtocols ?? []).map(String);
    this.staticCerts = (common.tlsCertificates ?? []).map((c, i) =>
      readTlsCertificate(c, `commonTlsContext.tlsCertificates[${i}]`),
    );
    this.certNames = (common.tlsCertificateSdsSecretConfigs ?? []).map((s) => s.name ?? '');
    const combined = common.combinedValidationContext;
    if (combined)
      refuseUnsupported('commonTlsContext.combinedValidationContext', combined, COMBINED_UNSUPPORTED);
    const vc = combined ? combined.defaultValidationContext : common.validationContext;
    this.staticValidation = vc ? compileValidation(vc, 'commonTlsContext.validationContext') : null;
    const vname = combined
      ? combined.validationContextSdsSecretConfig?.name
      : common.validationContextSdsSecretConfig?.name;
    this.validationName = vname ? vname : null;
    this.sdsNames = this.validationName ? [...this.certNames, this.validationName] : [...this.certNames];
    if (this.sdsNames.length > 0 && !secrets)
      throw new Error('commonTlsContext: SDS secrets are configured but the proxy has no secret store');
    const p = common.tlsParams ?? {};
    if ((p.signatureAlgorithms ?? []).length > 0)
      throw new Error('commonTlsContext.tlsParams.signatureAlgorithms is not supported by this proxy');
    this.minVersion = version(p.tlsMinimumProtocolVersion, defaults.min, 'tlsMinimumProtocolVersion');
    this.maxVersion = version(p.tlsMaximumProtocolVersion, defaults.max, 'tlsMaximumProtocolVersion');
    const suites = (p.cipherSuites ?? []).flatMap((s) =>
      String(s)
        .replace(/^\[|\]$/g, '')
        .split('|'),
    );
    this.ciphers = suites.length > 0 ? `${TLS13_SUITES}:${suites.join(':')}` : undefined;
    const curves = (p.ecdhCurves ?? []).map(String);
    this.curves = curves.length > 0 ? curves.join(':') : undefined;
    // A context without SDS is built once, now, so a bad certificate is a config error (NACK).
    if (this.sdsNames.length === 0) {
      const r = this.build();
      if (r instanceof Error) throw r;
    }
  }

  /** True when at least one certificate (static or SDS) is configured. */
  get hasCertificates(): boolean {
    return this.staticCerts.length > 0 || this.certNames.length > 0;
  }

  /** True when peer certificates are validated (a validation context, static or SDS, is configured). */
  get validates(): boolean {
    return this.staticValidation !== null || this.validationName !== null;
  }

  /** The current TLS configuration; an Error when an SDS secret is missing or unusable. */
  resolve(): ResolvedTls | Error {
    const gen = this.sdsNames.length === 0 ? 0 : this.secrets!.generation;
    if (this.cache === null || this.cache.generation !== gen)
      this.cache = { generation: gen, value: this.build() };
    return this.cache.value;
  }

  private build(): ResolvedTls | Error {
    try {
      const certs = [...this.staticCerts];
      for (const name of this.certNames) {
        const s = this.secrets!.get(name);
        const tc = s?.tlsCertificate;
        if (!tc) return new Error(`SDS secret ${name} (a certificate) is not available`);
        certs.push(readTlsCertificate(tc, `secret ${name}.tlsCertificate`));
      }
      let v = this.staticValidation ?? NO_VALIDATION;
      if (this.validationName !== null) {
        const s = this.secrets!.get(this.validationName);
        if (!s?.validationContext)
          return new Error(`SDS secret ${this.validationName} (a validation context) is not available`);
        v = merge(
          v,
          compileValidation(s.validationContext, `secret ${this.validationName}.validationContext`),
        );
      }
      const context = createSecureContext({
        cert: certs.length > 0 ? certs.map((c) => c.cert) : undefined,
        key: certs.length > 0 ? certs.map((c) => ({ pem: c.key })) : undefined,
        ca: v.ca ?? undefined,
        crl: v.crl ?? undefined,
        minVersion: this.minVersion,
        maxVersion: this.maxVersion,
        ciphers: this.ciphers,
        ecdhCurve: this.curves,
        secureOptions: this.secureOptions || undefined,
      });
      return new ResolvedTls(context, v.ca !== null, v);
    } catch (e) {
      return new Error(`commonTlsContext: ${(e as Error).message}`);
    }
  }
}

function version(v: TlsProtocol | undefined, dflt: SecureVersion, field: string): SecureVersion | undefined {
  if (v === undefined || v === null || v === 'TLS_AUTO') return dflt;
  const s: string = v;
  if (!(s in VERSIONS)) throw new Error(`commonTlsContext.tlsParams.${field}: unknown TLS version ${s}`);
  return VERSIONS[s];
}

/** A CertificateValidationContext's checks. Throws naming the field. */
export function compileValidation(vc: CertificateValidationContext, where: string): Validation {
  refuseUnsupported(where, vc, VALIDATION_UNSUPPORTED);
  const ca = readDataSource(vc.trustedCa, `${where}.trustedCa`);
  const sans: SanRule[] = [];
  for (const [i, m] of (vc.matchSubjectAltNames ?? []).entries()) {
    try {
      sans.push({ type: '', matcher: new StringMatcher(m) });
    } catch (e) {
      throw new Error(`${where}.matchSubjectAltNames[${i}]: ${(e as Error).message}`);
    }
  }
  for (const [i, t] of (vc.matchTypedSubjectAltNames ?? []).entries()) {
    try {
      sans.push({ type: t.sanType ?? '', matcher: new StringMatcher(t.matcher) });
    } catch (e) {
      throw new Error(`${where}.matchTypedSubjectAltNames[${i}]: ${(e as Error).message}`);
    }
  }
  const hashes = (vc.verifyCertificateHash ?? []).map((h) => String(h).replace(/:/g, '').toLowerCase());
  const spki = (vc.verifyCertificateSpki ?? []).map(String);
  const crl = readDataSource(vc.crl, `${where}.crl`);
  return { ca, crl, sans, spki, hashes };
}

function merge(a: Validation, b: Validation): Validation {
  return {
    ca: b.ca ?? a.ca,
    crl: b.crl ?? a.crl,
    sans: [...a.sans, ...b.sans],
    spki: [...a.spki, ...b.spki],
    hashes: [...a.hashes, ...b.hashes],
  };
}

const SAN_TYPES: Record<string, string> = {
  DNS: 'DNS',
  URI: 'URI',
  email: 'EMAIL',
  'IP Address': 'IP_ADDRESS',
};

/** Node's `subjectaltname` string ("DNS:a, URI:b, IP Address:1.2.3.4") as typed values. */
export function subjectAltNames(s: string): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  for (const part of s.split(', ')) {
    const i = part.indexOf(':');
    if (i <= 0) continue;
    const type = SAN_TYPES[part.slice(0, i)];
    let value = part.slice(i + 1);
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (type) out.push({ type, value });
  }
  return out;
}
