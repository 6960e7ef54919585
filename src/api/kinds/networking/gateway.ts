// Gateway (networking.istio.io): the ports, hosts and TLS a gateway proxy (ingress/egress) serves.
import { isIP } from 'node:net';
import {
  obj,
  str,
  nonEmpty,
  uint32,
  bool,
  enumOf,
  list,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkPort } from '../../checks.js';
import { labels } from '../../metadata.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import {
  checkProtocol,
  isHttpProtocol,
  isTlsProtocol,
  metadataNameAt,
  nameOf,
  unixPathError,
} from './common.js';
import { checkNamespacedHostname, isDns1123Label } from './hosts.js';

/** Gateway.spec. */
export interface GatewaySpec {
  /** Servers (port + hosts + TLS) the gateway exposes (required, at least one). */
  servers: Server[];
  /** Labels of the gateway pods this applies to (e.g. `istio: ingressgateway`); empty = all gateways. */
  selector?: Record<string, string>;
}

/** A Gateway resource. */
export type Gateway = SpecResource<'Gateway', GatewaySpec>;

/** One server: a port, the hosts it serves and its TLS settings. */
export interface Server {
  /** Port to listen on (required). */
  port: Port;
  /** Address or unix socket the server binds to; default all addresses. */
  bind?: string;
  /** Hosts served, as `[namespace/]dnsName` (`*`, `*.example.com`, `./foo.com`, `ns/*`) (required). */
  hosts: string[];
  /** TLS settings; required for HTTPS and TLS ports (except httpsRedirect-only servers). */
  tls?: ServerTLSSettings;
  /** Deprecated / not implemented by Istio: where to forward traffic by default. */
  defaultEndpoint?: string;
  /** Name of the server (unique across gateways), used in stats and route config names. */
  name?: string;
}

/** Protocols a Gateway or ServiceEntry port may declare. */
export type PortProtocol =
  | 'HTTP'
  | 'HTTPS'
  | 'GRPC'
  | 'GRPC-WEB'
  | 'HTTP2'
  | 'MONGO'
  | 'TCP'
  | 'TLS'
  | 'UDP'
  | 'REDIS'
  | 'MYSQL'
  | 'THRIFT';

/** A listening port. */
export interface Port {
  /** Port number (1–65535) (required). */
  number: number;
  /** Protocol: HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP, TLS (required). */
  protocol: string;
  /** Port name (required by Istio's validation, unique per Gateway). */
  name: string;
  /** Deprecated: port on the gateway pod that receives the traffic. */
  targetPort?: number;
}

/** TLS modes a gateway server offers. */
export type ServerTLSMode =
  'PASSTHROUGH' | 'SIMPLE' | 'MUTUAL' | 'AUTO_PASSTHROUGH' | 'ISTIO_MUTUAL' | 'OPTIONAL_MUTUAL';

/** TLS protocol versions. */
export type TLSProtocol = 'TLS_AUTO' | 'TLSV1_0' | 'TLSV1_1' | 'TLSV1_2' | 'TLSV1_3';

/** Server-side TLS settings. */
export interface ServerTLSSettings {
  /** Redirect all HTTP requests to HTTPS with a 301. */
  httpsRedirect?: boolean;
  /** TLS mode; default PASSTHROUGH. */
  mode?: ServerTLSMode;
  /** Server certificate file (PEM) for SIMPLE / MUTUAL. */
  serverCertificate?: string;
  /** Server private key file (PEM) for SIMPLE / MUTUAL. */
  privateKey?: string;
  /** CA bundle file (PEM) to verify client certificates (MUTUAL). */
  caCertificates?: string;
  /** Certificate revocation list file (PEM). */
  caCrl?: string;
  /** Secret holding key, certificate and optionally CA (replaces the file fields). */
  credentialName?: string;
  /** Up to two secrets (e.g. RSA + ECDSA) holding keys and certificates; excludes credentialName. */
  credentialNames?: string[];
  /** Up to two inline file sets (e.g. RSA + ECDSA); excludes serverCertificate/privateKey. */
  tlsCertificates?: TLSCertificate[];
  /** Acceptable client identities (SANs). */
  subjectAltNames?: string[];
  /** Base64 SHA-256 SPKI hashes of acceptable client certificates. */
  verifyCertificateSpki?: string[];
  /** Hex SHA-256 hashes of acceptable client certificates. */
  verifyCertificateHash?: string[];
  /** Minimum TLS version; default TLSV1_2. */
  minProtocolVersion?: TLSProtocol;
  /** Maximum TLS version; default TLSV1_3. */
  maxProtocolVersion?: TLSProtocol;
  /** Cipher suites (OpenSSL names); default Envoy's. */
  cipherSuites?: string[];
}

/** One certificate + key (+ CA) as files. */
export interface TLSCertificate {
  /** Certificate file (PEM). */
  serverCertificate?: string;
  /** Private key file (PEM). */
  privateKey?: string;
  /** CA bundle file (PEM). */
  caCertificates?: string;
}

// ---------- schema ----------

/** Cipher suites Envoy (BoringSSL) accepts; others are ignored with a warning. */
const CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-PSK-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-PSK-AES128-CBC-SHA',
  'AES128-GCM-SHA256',
  'AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'ECDHE-PSK-AES256-CBC-SHA',
  'AES256-GCM-SHA384',
  'AES256-SHA',
  'PSK-AES128-CBC-SHA',
  'PSK-AES256-CBC-SHA',
  'DES-CBC3-SHA',
]);

/**
 * A cipher suite, an equal-preference group `[A|B]` of them, `ALL`, or (as Istio accepts) an
 * OpenSSL cipher-list operation such as `-AES128-SHA`, `+ECDHE-RSA-AES128-SHA` or `!3DES`, which the
 * proxy hands to OpenSSL unchanged.
 */
function isCipherSuite(s: string): boolean {
  if (s === 'ALL' || /^[^A-Za-z0-9[]/.test(s)) return true;
  if (s.startsWith('[') && s.endsWith(']'))
    return s
      .slice(1, -1)
      .split('|')
      .every((x) => CIPHER_SUITES.has(x));
  return CIPHER_SUITES.has(s);
}

const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

const tlsCertificate = (): Validator<TLSCertificate> =>
  obj<TLSCertificate>({ serverCertificate: str(), privateKey: str(), caCertificates: str() });

function cipherWarnings(t: ServerTLSSettings, at: At, c: Checker): void {
  const low = t.minProtocolVersion === 'TLSV1_0' || t.minProtocolVersion === 'TLSV1_1';
  if (low && !t.cipherSuites?.length)
    c.warn(
      child(at, t, 'minProtocolVersion'),
      'TLS versions below TLSV1_2 need compatible cipherSuites; the defaults no longer include them',
    );
  const seen = new Set<string>();
  t.cipherSuites?.forEach((cs, i) => {
    const a = child(child(at, t, 'cipherSuites'), t.cipherSuites!, i);
    if (!isCipherSuite(cs)) c.warn(a, `ignoring invalid cipher suite ${JSON.stringify(cs)}`);
    else if (seen.has(cs)) c.warn(a, `ignoring duplicate cipher suite ${JSON.stringify(cs)}`);
    seen.add(cs);
  });
  const min = TLS_VERSIONS.indexOf(t.minProtocolVersion ?? 'TLS_AUTO');
  const max = TLS_VERSIONS.indexOf(t.maxProtocolVersion ?? 'TLS_AUTO');
  if (min > 0 && max > 0 && min > max)
    c.error(
      child(at, t, 'minProtocolVersion'),
      `minProtocolVersion ${t.minProtocolVersion} is above maxProtocolVersion ${t.maxProtocolVersion}`,
    );
}

/** The certificate fields each server TLS mode needs or forbids. */
function serverTlsRules(t: ServerTLSSettings, at: At, c: Checker): void {
  cipherWarnings(t, at, c);
  const f = (k: keyof ServerTLSSettings): At => child(at, t, k);
  const mode = t.mode ?? 'PASSTHROUGH';
  if (t.credentialName && t.credentialNames?.length)
    c.error(f('credentialNames'), 'only one of credentialName and credentialNames may be set');
  if ((t.credentialNames?.length ?? 0) > 2)
    c.error(f('credentialNames'), 'at most 2 credentialNames (e.g. one RSA and one ECDSA)');
  if ((t.tlsCertificates?.length ?? 0) > 2)
    c.error(f('tlsCertificates'), 'at most 2 tlsCertificates (e.g. one RSA and one ECDSA)');
  if (t.tlsCertificates?.length && (t.serverCertificate || t.privateKey))
    c.error(f('tlsCertificates'), 'only one of tlsCertificates and serverCertificate/privateKey may be set');
  const hasCredential = !!t.credentialName || !!t.credentialNames?.length;
  if (mode === 'ISTIO_MUTUAL') {
    for (const k of ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName'] as const)
      if (t[k]) c.error(f(k), `ISTIO_MUTUAL TLS cannot have ${k}: the proxy uses its mesh certificate`);
    for (const k of ['tlsCertificates', 'credentialNames'] as const)
      if (t[k]?.length)
        c.error(f(k), `ISTIO_MUTUAL TLS cannot have ${k}: the proxy uses its mesh certificate`);
    return;
  }
  // Istio: exactly one certificate source.
  const sources = [
    t.credentialName ? 'credentialName' : '',
    t.credentialNames?.length ? 'credentialNames' : '',
    t.serverCertificate && t.privateKey ? 'serverCertificate/privateKey' : '',
    t.tlsCertificates?.length ? 'tlsCertificates' : '',
  ].filter((x) => x);
  if (sources.length > 1 && !(t.credentialName && t.credentialNames?.length))
    c.error(at, `only one certificate source may be set, got ${sources.join(' and ')}`);
  if (
    (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') &&
    (t.caCrl || t.serverCertificate || t.privateKey || t.caCertificates || hasCredential)
  )
    c.warn(at, `${mode} mode does not use certificates; they will be ignored`);
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL' && mode !== 'OPTIONAL_MUTUAL') return;
  // With a credential the certificates (and a CRL, as Istio allows) come from the secret.
  if (hasCredential) return;
  if (t.caCrl && mode === 'SIMPLE') c.error(f('caCrl'), 'caCrl is not supported with SIMPLE TLS');
  const files = t.tlsCertificates?.length ? t.tlsCertificates : [t];
  const what = mode === 'SIMPLE' ? 'SIMPLE' : 'MUTUAL';
  if (files.some((x) => !x.serverCertificate))
    c.error(f('serverCertificate'), `${what} TLS requires serverCertificate (or credentialName)`);
  if (files.some((x) => !x.privateKey))
    c.error(f('privateKey'), `${what} TLS requires privateKey (or credentialName)`);
  if (what === 'MUTUAL' && !t.caCertificates && files.some((x) => !x.caCertificates))
    c.error(
      f('caCertificates'),
      'MUTUAL TLS requires caCertificates, the CA bundle for client certificates (or credentialName)',
    );
}

/** Server-side TLS settings (Gateway servers, Sidecar ingress). */
export const serverTls = (): Validator<ServerTLSSettings> =>
  obj<ServerTLSSettings>(
    {
      httpsRedirect: bool(),
      mode: enumOf([
        'PASSTHROUGH',
        'SIMPLE',
        'MUTUAL',
        'AUTO_PASSTHROUGH',
        'ISTIO_MUTUAL',
        'OPTIONAL_MUTUAL',
      ] as const),
      serverCertificate: str(),
      privateKey: str(),
      caCertificates: str(),
      caCrl: str(),
      credentialName: str(),
      credentialNames: list(nonEmpty()),
      tlsCertificates: list(tlsCertificate()),
      subjectAltNames: list(str()),
      verifyCertificateSpki: list(str()),
      verifyCertificateHash: list(str()),
      minProtocolVersion: enumOf(TLS_VERSIONS),
      maxProtocolVersion: enumOf(TLS_VERSIONS),
      cipherSuites: list(str()),
    },
    { rules: serverTlsRules },
  );

const gatewayPort = (): Validator<Port> =>
  obj<Port>({
    number: uint32(),
    protocol: { v: nonEmpty(checkProtocol), required: true },
    name: { v: nonEmpty(), required: true },
    targetPort: uint32(),
  });

/** Port, bind and TLS must agree: unix sockets use port 0, TLS ports need tls, plain ones only httpsRedirect. */
function serverRules(s: Server, at: At, c: Checker): void {
  const f = (k: keyof Server): At => child(at, s, k);
  s.hosts.forEach((h, i) => checkNamespacedHostname(h, child(f('hosts'), s.hosts, i), c, true));
  const unix = s.bind?.startsWith('unix://') ?? false;
  const portAt = (k: keyof Port): At => child(f('port'), s.port, k);
  if (unix) {
    const e = unixPathError(s.bind!.slice('unix://'.length));
    if (e) c.error(f('bind'), e);
    if (s.port.number)
      c.error(portAt('number'), 'port number must be 0 (or absent) for a unix domain socket bind');
  } else {
    if (s.bind && !isIP(s.bind))
      c.error(f('bind'), `bind must be an IP address or unix:// path, got ${JSON.stringify(s.bind)}`);
    if (s.port.number === undefined) c.error(portAt('number'), 'is required');
    else checkPort(s.port.number, portAt('number'), c);
  }
  if (s.port.targetPort) c.error(portAt('targetPort'), 'targetPort has no effect on Gateways; remove it');
  const p = s.port.protocol;
  if (isTlsProtocol(p) && !s.tls)
    c.error(f('tls'), `is required for ${p} servers (e.g. {mode: SIMPLE, credentialName: my-cert})`);
  else if (!isTlsProtocol(p) && s.tls) {
    const passthrough = (s.tls.mode ?? 'PASSTHROUGH') === 'PASSTHROUGH' || s.tls.mode === 'AUTO_PASSTHROUGH';
    if (!isHttpProtocol(p))
      c.error(f('tls'), `${p} servers cannot have TLS settings; use protocol HTTPS or TLS`);
    else if (!passthrough || s.tls.caCertificates || s.tls.privateKey || s.tls.serverCertificate)
      c.error(
        f('tls'),
        `plain-text ${p} servers can only have tls.httpsRedirect; use protocol HTTPS to terminate TLS`,
      );
  }
}

const server = (): Validator<Server> =>
  obj<Server>(
    {
      port: { v: gatewayPort(), required: true },
      bind: str(),
      hosts: { v: list(nonEmpty(), { min: 1 }), required: true },
      tls: serverTls(),
      defaultEndpoint: str(),
      name: str(),
    },
    { rules: serverRules },
  );

/** Schema of Gateway.spec. */
export const gatewaySpec = (): Validator<GatewaySpec> =>
  obj<GatewaySpec>(
    { servers: { v: list(server(), { min: 1 }), required: true }, selector: labels() },
    {
      rules: (g, at, c) => {
        const name = nameOf(at);
        if (name !== undefined && !isDns1123Label(name))
          c.error(
            metadataNameAt(at),
            `invalid Gateway name ${JSON.stringify(name)}: Gateway names must be DNS labels (no dots)`,
          );
        const names = new Map<string, number>();
        g.servers.forEach((s, i) => {
          const sAt = child(child(at, g, 'servers'), g.servers, i);
          const pAt = child(sAt, s, 'port');
          const prev = names.get(s.port.name);
          if (prev !== undefined)
            c.error(
              child(pAt, s.port, 'name'),
              `port names in servers must be unique: ${JSON.stringify(s.port.name)} is also used by servers[${prev}]`,
            );
          else names.set(s.port.name, i);
          if (s.tls?.httpsRedirect && !isHttpProtocol(s.port.protocol))
            c.warn(
              child(child(sAt, s, 'tls'), s.tls, 'httpsRedirect'),
              'httpsRedirect only has an effect on HTTP servers',
            );
        });
      },
    },
  );

/** The Gateway kind. */
export const gatewayKind = istioKind('Gateway', ISTIO_VERSIONS.networking, gatewaySpec());
