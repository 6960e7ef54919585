// Pod (v1): one workload instance; `mizzen up` runs each container's command as a local process.
import type { Resource } from '../../resource.js';

/** A reference to one key of a ConfigMap or Secret. */
export interface KeySelector {
  name?: string;
  key: string;
  optional?: boolean;
}

/** Where an environment variable's value comes from. */
export interface EnvVarSource {
  fieldRef?: { fieldPath: string; apiVersion?: string };
  resourceFieldRef?: { resource: string; containerName?: string; divisor?: string | number };
  configMapKeyRef?: KeySelector;
  secretKeyRef?: KeySelector;
}

/** One environment variable of a container. */
export interface EnvVar {
  /** Variable name. */
  name: string;
  /** Literal value; `$(VAR)` references expand. Exclusive with valueFrom. */
  value?: string;
  valueFrom?: EnvVarSource;
}

/** One port a container listens on. */
export interface ContainerPort {
  /** Port number inside the pod, 1–65535. */
  containerPort: number;
  /** IANA_SVC_NAME a Service targetPort may refer to; unique within the pod. */
  name?: string;
  /** Default TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  hostPort?: number;
  hostIP?: string;
}

/** One container of a pod. Fields a mesh does not read (probes, resources, ...) are kept as is. */
export interface Container {
  /** DNS-1123 label, unique within the pod. */
  name: string;
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Entrypoint argv. */
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: ContainerPort[];
  /** Sidecar init containers set this to Always. */
  restartPolicy?: string;
  [field: string]: unknown;
}

/** Pod.spec (also a Deployment's template.spec). */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  /** Service account the pod runs as (its mesh identity); default "default". */
  serviceAccountName?: string;
  /** Deprecated alias of serviceAccountName. */
  serviceAccount?: string;
  hostname?: string;
  subdomain?: string;
  nodeName?: string;
  hostNetwork?: boolean;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** Seconds. */
  terminationGracePeriodSeconds?: number;
  [field: string]: unknown;
}

/** Pod.status, the parts a mesh reads. */
export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  conditions?: { type: string; status: string; [field: string]: unknown }[];
  [field: string]: unknown;
}

/** A Pod resource. */
export interface Pod extends Resource {
  kind: 'Pod';
  spec: PodSpec;
  status?: PodStatus;
}
