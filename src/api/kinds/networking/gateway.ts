// Gateway (networking.istio.io): the ports, hosts and TLS a gateway proxy (ingress/egress) serves.
import type { SpecResource } from '../../resource.js';

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
