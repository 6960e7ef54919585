// WorkloadGroup (networking.istio.io): a template for WorkloadEntries auto-registered by VMs, plus their health probe.
import {
  obj,
  str,
  int,
  list,
  record,
  exactlyOne,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkPort } from '../../checks.js';
import { labels } from '../../metadata.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { workloadEntrySpec, type WorkloadEntrySpec } from './workload-entry.js';

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

// ---------- schema ----------

const nonNegative = (): Validator<number> => int(0, 2147483647);
const port = (): Validator<number> => int(0, 4294967295, checkPort);

const httpGet = (): Validator<HTTPHealthCheckConfig> =>
  obj<HTTPHealthCheckConfig>({
    path: str(),
    port: { v: port(), required: true },
    host: str(),
    scheme: str((s, at, c) => {
      if (s !== '' && s !== 'HTTP' && s !== 'HTTPS')
        c.error(at, `scheme must be "HTTP" or "HTTPS", got ${JSON.stringify(s)}`);
    }),
    httpHeaders: list(obj({ name: { v: str(checkProbeHeaderName), required: true }, value: str() })),
  });

// Probe headers follow Kubernetes' rule (letters, digits, "-"; no "_"), as Istio's probe validation does.
const PROBE_HEADER_NAME = /^[-A-Za-z0-9]+$/;

function checkProbeHeaderName(name: string, at: At, c: Checker): void {
  if (name === '') c.error(at, 'header name cannot be empty');
  else if (!PROBE_HEADER_NAME.test(name))
    c.error(at, `probe header name ${JSON.stringify(name)} is not valid (letters, digits and "-" only)`);
}

const METHODS = ['httpGet', 'tcpSocket', 'exec', 'grpc'];

const readinessProbe = (): Validator<ReadinessProbe> =>
  obj<ReadinessProbe>(
    {
      initialDelaySeconds: nonNegative(),
      timeoutSeconds: nonNegative(),
      periodSeconds: nonNegative(),
      successThreshold: nonNegative(),
      failureThreshold: nonNegative(),
      httpGet: httpGet(),
      tcpSocket: obj<TCPHealthCheckConfig>({ host: str(), port: { v: port(), required: true } }),
      exec: obj<ExecHealthCheckConfig>({ command: { v: list(str(), { min: 1 }), required: true } }),
      grpc: obj<GrpcHealthCheckConfig>({ port: { v: port(), required: true }, service: str() }),
    },
    { rules: (p, at, c) => exactlyOne(p as Record<string, unknown>, METHODS, at, c) },
  );

/** Schema of WorkloadGroup.spec; the template's address and labels are filled in at registration. */
export const workloadGroupSpec = (): Validator<WorkloadGroupSpec> =>
  obj<WorkloadGroupSpec>(
    {
      metadata: obj<WorkloadGroupObjectMeta>({ labels: labels(), annotations: record(str()) }),
      template: { v: workloadEntrySpec(), required: true },
      probe: readinessProbe(),
    },
    {
      rules: (g, at, c) => {
        const t = child(at, g, 'template');
        if (g.template.address)
          c.warn(
            child(t, g.template, 'address'),
            'template.address is ignored: each registered workload supplies its own',
          );
        if (g.template.labels)
          c.warn(child(t, g.template, 'labels'), 'template.labels is ignored: put labels in metadata.labels');
      },
    },
  );

/** The WorkloadGroup kind. */
export const workloadGroupKind = istioKind('WorkloadGroup', ISTIO_VERSIONS.networking, workloadGroupSpec());
