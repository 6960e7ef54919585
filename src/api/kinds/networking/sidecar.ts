// Sidecar (networking.istio.io): narrows what a workload's proxy listens on and which services it can reach.
import type { SpecResource } from '../../resource.js';
import type { WorkloadSelector } from './workload-selector.js';
import type { Destination } from './virtual-service.js';
import type { ServerTLSSettings } from './gateway.js';
import type { ConnectionPoolSettings } from './destination-rule.js';

/** Sidecar.spec. */
export interface SidecarSpec {
  /** Workloads this applies to; absent = every workload in the namespace (one such Sidecar per namespace). */
  workloadSelector?: WorkloadSelector;
  /** Inbound listeners (ports of the workload itself). */
  ingress?: IstioIngressListener[];
  /** Outbound listeners: which services (hosts) the workload may reach. */
  egress?: IstioEgressListener[];
  /** Connection pool applied to every inbound listener unless a listener sets its own. */
  inboundConnectionPool?: ConnectionPoolSettings;
  /** What to do with traffic to unknown destinations. */
  outboundTrafficPolicy?: OutboundTrafficPolicy;
}

/** A Sidecar resource. */
export type Sidecar = SpecResource<'Sidecar', SidecarSpec>;

/** A port on a Sidecar listener. */
export interface SidecarPort {
  /** Port number (1–65535). */
  number?: number;
  /** Protocol: HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS, ... */
  protocol?: string;
  /** Port name. */
  name?: string;
  /** Deprecated: unused. */
  targetPort?: number;
}

/** Capture modes. */
export type CaptureMode = 'DEFAULT' | 'IPTABLES' | 'NONE';

/** An inbound listener. */
export interface IstioIngressListener {
  /** Port the listener accepts traffic on (required). */
  port: SidecarPort;
  /** Address the listener binds to; default the instance IP. */
  bind?: string;
  /** How traffic reaches the listener; default DEFAULT. */
  captureMode?: CaptureMode;
  /** Where to forward: `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT` or `unix://path`. */
  defaultEndpoint?: string;
  /** TLS terminated by the listener (SIMPLE or MUTUAL with files). */
  tls?: ServerTLSSettings;
  /** Connection pool for this listener's connections to the app. */
  connectionPool?: ConnectionPoolSettings;
}

/** An outbound listener. */
export interface IstioEgressListener {
  /** Port of the listener; absent = the catch-all listener. */
  port?: SidecarPort;
  /** Address the listener binds to. */
  bind?: string;
  /** How traffic reaches the listener; default DEFAULT. */
  captureMode?: CaptureMode;
  /** Reachable services as `namespace/dnsName` (e.g. `./*`, `istio-system/*`; namespace `*` = any) (required). */
  hosts: string[];
}

/** Handling of traffic to destinations not in the registry. */
export interface OutboundTrafficPolicy {
  /** REGISTRY_ONLY blocks unknown destinations; ALLOW_ANY passes them through. Default ALLOW_ANY. */
  mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY';
  /** Send unknown traffic to this destination instead of passing it through (ALLOW_ANY only). */
  egressProxy?: Destination;
}

export type { WorkloadSelector } from './workload-selector.js';
