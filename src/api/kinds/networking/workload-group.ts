// WorkloadGroup (networking.istio.io): a template for WorkloadEntries auto-registered by VMs, plus their health probe.
import type { SpecResource } from '../../resource.js';
import type { WorkloadEntrySpec } from './workload-entry.js';

/** WorkloadGroup.spec. */
export interface WorkloadGroupSpec {
  /** Labels and annotations copied onto generated WorkloadEntries. */
  metadata?: WorkloadGroupObjectMeta;
  /** WorkloadEntry template (address is filled in at registration and must be empty here) (required). */
  template: WorkloadEntrySpec;
  /** Readiness probe run by the workload's proxy. */
  probe?: ReadinessProbe;
}

/** A WorkloadGroup resource. */
export type WorkloadGroup = SpecResource<'WorkloadGroup', WorkloadGroupSpec>;

/** Metadata given to generated WorkloadEntries. */
export interface WorkloadGroupObjectMeta {
  /** Labels for the generated entries. */
  labels?: Record<string, string>;
  /** Annotations for the generated entries. */
  annotations?: Record<string, string>;
}

/** Readiness probe: exactly one of httpGet, tcpSocket, exec, grpc. */
export interface ReadinessProbe {
  /** Seconds after start before probing; default 0. */
  initialDelaySeconds?: number;
  /** Seconds before a probe times out; default 1. */
  timeoutSeconds?: number;
  /** Seconds between probes; default 10. */
  periodSeconds?: number;
  /** Consecutive successes to become ready; default 1. */
  successThreshold?: number;
  /** Consecutive failures to become not ready; default 3. */
  failureThreshold?: number;
  /** HTTP GET probe. */
  httpGet?: HTTPHealthCheckConfig;
  /** TCP connect probe. */
  tcpSocket?: TCPHealthCheckConfig;
  /** Command probe. */
  exec?: ExecHealthCheckConfig;
  /** gRPC health-checking probe. */
  grpc?: GrpcHealthCheckConfig;
}

/** HTTP GET probe. */
export interface HTTPHealthCheckConfig {
  /** Request path. */
  path?: string;
  /** Port to probe (1–65535) (required). */
  port: number;
  /** Host to connect to; default the workload IP. */
  host?: string;
  /** HTTP or HTTPS; default HTTP. */
  scheme?: string;
  /** Extra request headers. */
  httpHeaders?: { name?: string; value?: string }[];
}

/** TCP connect probe. */
export interface TCPHealthCheckConfig {
  /** Host to connect to; default localhost. */
  host?: string;
  /** Port to connect to (1–65535) (required). */
  port: number;
}

/** Command probe. */
export interface ExecHealthCheckConfig {
  /** Command and arguments (required). */
  command: string[];
}

/** gRPC health-checking probe. */
export interface GrpcHealthCheckConfig {
  /** Port of the gRPC service (1–65535) (required). */
  port: number;
  /** Service name sent in the health check request; empty = the server's overall health. */
  service?: string;
}
