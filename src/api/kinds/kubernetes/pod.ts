// Pod (v1): one workload instance; `mizzen up` runs each container's command as a local process.
import {
  obj,
  str,
  int,
  bool,
  list,
  enumOf,
  anyValue,
  record,
  exactlyOne,
  fieldAt,
  type At,
  type Checker,
  type Fields,
  type Validator,
} from '../../schema.js';
import { checkIp } from '../../checks.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { checkDnsLabel, checkDnsSubdomain, checkEnvName, checkIanaSvcName } from './names.js';
import { portNumber, portProtocol } from './service.js';

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

/** Pod.spec (also a Deployment's template.spec). Fields a mesh does not read are kept as written. */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
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

// ---------- validation ----------

const keySelector = (): Validator<KeySelector> =>
  obj<KeySelector>({ name: str(), key: { required: true, v: str() }, optional: bool() });

const envVarSource = (): Validator<EnvVarSource> =>
  obj<EnvVarSource>(
    {
      fieldRef: obj<{ fieldPath: string; apiVersion?: string }>({
        fieldPath: { required: true, v: str() },
        apiVersion: str(),
      }),
      resourceFieldRef: obj<{ resource: string; containerName?: string }>({
        resource: { required: true, v: str() },
        containerName: str(),
        divisor: anyValue(),
      }),
      configMapKeyRef: keySelector(),
      secretKeyRef: keySelector(),
    },
    {
      rules: (s, at, c) =>
        exactlyOne(
          s as Record<string, unknown>,
          ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'],
          at,
          c,
        ),
    },
  );

const envVar = (): Validator<EnvVar> =>
  obj<EnvVar>(
    { name: { required: true, v: str(checkEnvName) }, value: str(), valueFrom: envVarSource() },
    {
      rules: (e, at, c) => {
        if (e.value && e.valueFrom)
          c.error(fieldAt(at, e, 'valueFrom'), 'may not be set when value is not empty');
      },
    },
  );

const containerPort = (): Validator<ContainerPort> =>
  obj<ContainerPort>({
    containerPort: { required: true, v: portNumber() },
    name: str(checkIanaSvcName),
    protocol: portProtocol(),
    hostPort: portNumber(),
    hostIP: str(checkIp),
  });

/**
 * Every Container field Kubernetes defines: the ones a mesh reads are typed, the rest (probes,
 * resources, mounts, security context) are accepted as written. Listing them all keeps typos errors.
 */
const containerFields: Fields = {
  name: { required: true, v: str(checkDnsLabel) },
  image: str(),
  imagePullPolicy: enumOf(['Always', 'IfNotPresent', 'Never'] as const),
  command: list(str()),
  args: list(str()),
  workingDir: str(),
  env: list(envVar()),
  envFrom: list(anyValue()),
  ports: list(containerPort()),
  restartPolicy: enumOf(['Always'] as const),
  resources: anyValue(),
  resizePolicy: anyValue(),
  volumeMounts: anyValue(),
  volumeDevices: anyValue(),
  livenessProbe: anyValue(),
  readinessProbe: anyValue(),
  startupProbe: anyValue(),
  lifecycle: anyValue(),
  terminationMessagePath: str(),
  terminationMessagePolicy: enumOf(['File', 'FallbackToLogsOnError'] as const),
  securityContext: anyValue(),
  stdin: bool(),
  stdinOnce: bool(),
  tty: bool(),
};

const container = (): Validator<Container> => obj<Container>(containerFields);
const ephemeralContainer = (): Validator<Container> =>
  obj<Container>({ ...containerFields, targetContainerName: str() });

/** Unique container names across containers, initContainers; unique port names across the pod. */
function podRules(s: PodSpec, at: At, c: Checker): void {
  const names = new Map<string, string>();
  const portNames = new Map<string, string>();
  for (const field of ['initContainers', 'containers'] as const) {
    const list0 = s[field] ?? [];
    list0.forEach((ct, i) => {
      const cAt = fieldAt(fieldAt(at, s, field), list0, i);
      const where = `${field}[${i}]`;
      const prev = names.get(ct.name);
      if (prev)
        c.error(
          fieldAt(cAt, ct, 'name'),
          `duplicate container name ${JSON.stringify(ct.name)} (also ${prev})`,
        );
      else names.set(ct.name, where);
      ct.ports?.forEach((p, j) => {
        if (!p.name) return;
        const pPrev = portNames.get(p.name);
        const pAt = fieldAt(fieldAt(fieldAt(cAt, ct, 'ports'), ct.ports!, j), p, 'name');
        if (pPrev) c.error(pAt, `duplicate port name ${JSON.stringify(p.name)} in the pod (also ${pPrev})`);
        else portNames.set(p.name, `${where}.ports[${j}]`);
      });
    });
  }
  if (s.serviceAccount && s.serviceAccountName && s.serviceAccount !== s.serviceAccountName)
    c.error(
      fieldAt(at, s, 'serviceAccount'),
      `differs from serviceAccountName ${JSON.stringify(s.serviceAccountName)}; set only serviceAccountName`,
    );
}

/** Schema of a PodSpec (Pod.spec and every workload template): all Kubernetes fields, typos caught. */
export const podSpec = (): Validator<PodSpec> =>
  obj<PodSpec>(
    {
      containers: { required: true, v: list(container(), { min: 1 }) },
      initContainers: list(container()),
      ephemeralContainers: list(ephemeralContainer()),
      serviceAccountName: str(checkDnsSubdomain),
      serviceAccount: { v: str(checkDnsSubdomain), deprecated: 'use serviceAccountName' },
      automountServiceAccountToken: bool(),
      hostname: str(checkDnsLabel),
      subdomain: str(checkDnsLabel),
      setHostnameAsFQDN: bool(),
      nodeName: str(),
      nodeSelector: record(str()),
      hostNetwork: bool(),
      hostPID: bool(),
      hostIPC: bool(),
      hostUsers: bool(),
      shareProcessNamespace: bool(),
      restartPolicy: enumOf(['Always', 'OnFailure', 'Never'] as const),
      terminationGracePeriodSeconds: int(0),
      activeDeadlineSeconds: int(1),
      dnsPolicy: enumOf(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const),
      dnsConfig: anyValue(),
      hostAliases: anyValue(),
      enableServiceLinks: bool(),
      volumes: anyValue(),
      imagePullSecrets: list(obj<{ name?: string }>({ name: str() })),
      affinity: anyValue(),
      tolerations: anyValue(),
      topologySpreadConstraints: anyValue(),
      schedulerName: str(),
      schedulingGates: anyValue(),
      priority: int(),
      priorityClassName: str(),
      preemptionPolicy: str(),
      runtimeClassName: str(),
      overhead: anyValue(),
      readinessGates: anyValue(),
      resourceClaims: anyValue(),
      resources: anyValue(),
      securityContext: anyValue(),
      os: anyValue(),
    },
    { rules: podRules },
  );

const podIP = (): Validator<{ ip: string }> =>
  obj<{ ip: string }>({ ip: { required: true, v: str(checkIp) } });

/** Schema of Pod.status: the addresses and phase are typed, the rest kept as written. */
export const podStatus = (): Validator<PodStatus> =>
  obj<PodStatus>(
    {
      phase: enumOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const),
      podIP: str(checkIp),
      podIPs: list(podIP(), { max: 2 }),
      hostIP: str(checkIp),
      hostIPs: list(podIP(), { max: 2 }),
      conditions: list(anyValue()),
    },
    {
      allowUnknown: true,
      rules: (s, at, c) => {
        if (s.podIP && s.podIPs?.length && s.podIPs[0].ip !== s.podIP)
          c.error(fieldAt(at, s, 'podIPs'), `the first entry must equal podIP ${s.podIP}`);
      },
    },
  );

/** The Pod kind. */
export const podKind = kubeKind('Pod', ['v1'], {
  spec: { required: true, v: podSpec() },
  status: podStatus(),
});
