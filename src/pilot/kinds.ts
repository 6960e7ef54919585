// Minimal shapes of kinds whose typed modules in src/api have not landed yet (field names as Istio's
// proto JSON). Replace with the src/api/kinds imports when they exist.
import type { SpecResource } from '../api/resource.js';

/** Gateway.spec.servers[].port */
export interface GatewayPort {
  number: number;
  protocol: string;
  name?: string;
  targetPort?: number;
}

/** Gateway.spec.servers[].tls */
export interface ServerTLSSettings {
  httpsRedirect?: boolean;
  mode?: 'PASSTHROUGH' | 'SIMPLE' | 'MUTUAL' | 'AUTO_PASSTHROUGH' | 'ISTIO_MUTUAL' | 'OPTIONAL_MUTUAL';
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: string[];
}

/** Gateway.spec.servers[] */
export interface Server {
  port: GatewayPort;
  bind?: string;
  hosts: string[];
  tls?: ServerTLSSettings;
  name?: string;
}

/** Gateway.spec */
export interface GatewaySpec {
  servers?: Server[];
  selector?: Record<string, string>;
}

/** A Gateway resource. */
export type Gateway = SpecResource<'Gateway', GatewaySpec>;

/** Sidecar.spec.egress[] */
export interface IstioEgressListener {
  port?: { number: number; protocol?: string; name?: string };
  bind?: string;
  captureMode?: string;
  hosts: string[];
}

/** Sidecar.spec.ingress[] */
export interface IstioIngressListener {
  port: { number: number; protocol?: string; name?: string };
  bind?: string;
  captureMode?: string;
  defaultEndpoint?: string;
}

/** Sidecar.spec */
export interface SidecarSpec {
  workloadSelector?: { labels?: Record<string, string> };
  ingress?: IstioIngressListener[];
  egress?: IstioEgressListener[];
  outboundTrafficPolicy?: { mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY' };
}

/** A Sidecar resource. */
export type Sidecar = SpecResource<'Sidecar', SidecarSpec>;
