// Service (v1): a named set of pods behind stable ports; the mesh's unit of routing.
import { isIP } from 'node:net';
import {
  obj,
  str,
  int,
  bool,
  list,
  enumOf,
  anyValue,
  record,
  fieldAt,
  describe,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkCidr, checkIp, isDnsName } from '../../checks.js';
import { labels } from '../../metadata.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { checkDnsLabel, checkQualifiedName, isIanaSvcName } from './names.js';

/** Transport protocols of Kubernetes ports. */
export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

/** One port of a Service. */
export interface ServicePort {
  /**
   * Port name (DNS-1123 label); required and unique when there is more than one port. Its prefix
   * (`http-`, `grpc-`, `tcp-`, ...) selects the protocol when appProtocol is absent.
   */
  name?: string;
  /** Service port number, 1–65535. */
  port: number;
  /** Pod port: a number, or the name of a container port (IANA_SVC_NAME). Default: `port`. */
  targetPort?: number | string;
  /** Default TCP. */
  protocol?: PortProtocol;
  /** Application protocol, e.g. "http", "grpc", "kubernetes.io/h2c"; overrides the name prefix. */
  appProtocol?: string;
  /** Node port for NodePort/LoadBalancer services, 1–65535. */
  nodePort?: number;
}

/** Session affinity timeout settings. */
export interface SessionAffinityConfig {
  clientIP?: { timeoutSeconds?: number };
}

/** Service.spec. */
export interface ServiceSpec {
  ports?: ServicePort[];
  /** Pod labels that select the endpoints; absent = endpoints are managed by hand. */
  selector?: Record<string, string>;
  /** Default ClusterIP. */
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Virtual IP, "None" for a headless service, or "" to allocate. */
  clusterIP?: string;
  clusterIPs?: string[];
  /** DNS name an ExternalName service aliases. */
  externalName?: string;
  externalIPs?: string[];
  /** Default None. */
  sessionAffinity?: 'ClientIP' | 'None';
  sessionAffinityConfig?: SessionAffinityConfig;
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  loadBalancerClass?: string;
  allocateLoadBalancerNodePorts?: boolean;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  publishNotReadyAddresses?: boolean;
  ipFamilies?: ('IPv4' | 'IPv6')[];
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  /** e.g. "PreferClose". */
  trafficDistribution?: string;
}

/** A Service resource (named KubeService to keep it apart from the mesh's service model). */
export interface KubeService extends Resource {
  kind: 'Service';
  spec: ServiceSpec;
  status?: Record<string, unknown>;
}

// ---------- validation ----------

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** Schema of a port protocol (shared by Endpoints, EndpointSlice and containers). */
export const portProtocol = (): Validator<PortProtocol> => enumOf(PROTOCOLS);

/** A port number 1–65535. */
export const portNumber = (): Validator<number> => int(1, 65535);

/** IntOrString targetPort: a port number, or a container port name. */
const targetPort: Validator<number | string> = (v, at, c) => {
  if (typeof v === 'number') return portNumber()(v, at, c);
  if (typeof v === 'string') {
    if (!isIanaSvcName(v))
      c.error(
        at,
        /^\d+$/.test(v)
          ? `must be a port number or a container port name; write the number without quotes, got ${JSON.stringify(v)}`
          : `must be a container port name (IANA_SVC_NAME: at most 15 lower-case letters, digits and "-", with a letter), got ${JSON.stringify(v)}`,
      );
    return v;
  }
  c.error(at, `must be a port number or a container port name, got ${describe(v)}`);
  return undefined;
};

const servicePort = (): Validator<ServicePort> =>
  obj<ServicePort>({
    name: str(checkDnsLabel),
    port: { required: true, v: portNumber() },
    targetPort,
    protocol: portProtocol(),
    appProtocol: str(checkQualifiedName),
    nodePort: portNumber(),
  });

/** Reports duplicate names and missing names of a port list (Service, Endpoints, EndpointSlice). */
export function checkPortNames(
  ports: readonly { name?: string; port?: number; protocol?: string }[],
  at: At,
  c: Checker,
  opts: { nameRequired?: boolean; uniquePorts?: boolean } = {},
): void {
  const names = new Map<string, number>();
  const numbers = new Map<string, number>();
  ports.forEach((p, i) => {
    const pAt = fieldAt(at, ports, i);
    if (opts.nameRequired && ports.length > 1 && !p.name)
      c.error(fieldAt(pAt, p, 'name'), 'is required when there is more than one port');
    if (p.name !== undefined) {
      const prev = names.get(p.name);
      if (prev !== undefined)
        c.error(
          fieldAt(pAt, p, 'name'),
          `duplicate port name ${JSON.stringify(p.name)} (also ports[${prev}])`,
        );
      else names.set(p.name, i);
    }
    if (opts.uniquePorts && p.port !== undefined) {
      const key = `${p.port}/${p.protocol ?? 'TCP'}`;
      const prev = numbers.get(key);
      if (prev !== undefined) c.error(fieldAt(pAt, p, 'port'), `duplicate port ${key} (also ports[${prev}])`);
      else numbers.set(key, i);
    }
  });
}

function checkClusterIP(v: string, at: At, c: Checker): void {
  if (v !== '' && v !== 'None' && !isIP(v))
    c.error(at, `must be an IP address, "None" (headless) or "" (allocate), got ${JSON.stringify(v)}`);
}

function serviceRules(s: ServiceSpec, at: At, c: Checker): void {
  const type = s.type ?? 'ClusterIP';
  const ports = s.ports ?? [];
  const headless = s.clusterIP === 'None';
  if (type !== 'ExternalName' && !headless && ports.length === 0)
    c.error(
      fieldAt(at, s, 'ports'),
      'is required (at least one port) unless the service is headless or ExternalName',
    );
  if (s.ports) checkPortNames(s.ports, fieldAt(at, s, 'ports'), c, { nameRequired: true, uniquePorts: true });
  if (type === 'ExternalName') {
    if (!s.externalName) c.error(fieldAt(at, s, 'externalName'), 'is required for type ExternalName');
    else if (!isDnsName(s.externalName))
      c.error(fieldAt(at, s, 'externalName'), `must be a DNS name, got ${JSON.stringify(s.externalName)}`);
    if (s.clusterIP && s.clusterIP !== 'None')
      c.error(fieldAt(at, s, 'clusterIP'), 'must be empty for type ExternalName');
  } else if (s.externalName) {
    c.warn(fieldAt(at, s, 'externalName'), `is ignored for type ${type}`);
  }
  if (type !== 'NodePort' && type !== 'LoadBalancer') {
    ports.forEach((p, i) => {
      if (p.nodePort !== undefined)
        c.error(
          fieldAt(fieldAt(fieldAt(at, s, 'ports'), ports, i), p, 'nodePort'),
          `may only be set for type NodePort or LoadBalancer, got ${type}`,
        );
    });
    if (s.externalTrafficPolicy)
      c.error(
        fieldAt(at, s, 'externalTrafficPolicy'),
        `may only be set for type NodePort or LoadBalancer, got ${type}`,
      );
  }
  if (s.clusterIPs?.length && s.clusterIP !== undefined && s.clusterIPs[0] !== s.clusterIP)
    c.error(
      fieldAt(at, s, 'clusterIPs'),
      `the first entry must equal clusterIP ${JSON.stringify(s.clusterIP)}`,
    );
  if (s.sessionAffinityConfig && s.sessionAffinity !== 'ClientIP')
    c.error(fieldAt(at, s, 'sessionAffinityConfig'), 'may only be set when sessionAffinity is ClientIP');
}

/** Schema of Service.spec: every field Kubernetes defines, typed. */
export const serviceSpec = (): Validator<ServiceSpec> =>
  obj<ServiceSpec>(
    {
      ports: list(servicePort()),
      selector: labels(),
      type: enumOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const),
      clusterIP: str(checkClusterIP),
      clusterIPs: list(str(checkClusterIP), { max: 2 }),
      externalName: str(),
      externalIPs: list(str(checkIp)),
      sessionAffinity: enumOf(['ClientIP', 'None'] as const),
      sessionAffinityConfig: obj<SessionAffinityConfig>({
        clientIP: obj<{ timeoutSeconds?: number }>({ timeoutSeconds: int(1, 86400) }),
      }),
      loadBalancerIP: str(checkIp),
      loadBalancerSourceRanges: list(str(checkCidr)),
      loadBalancerClass: str(checkQualifiedName),
      allocateLoadBalancerNodePorts: bool(),
      externalTrafficPolicy: enumOf(['Cluster', 'Local'] as const),
      internalTrafficPolicy: enumOf(['Cluster', 'Local'] as const),
      healthCheckNodePort: portNumber(),
      publishNotReadyAddresses: bool(),
      ipFamilies: list(enumOf(['IPv4', 'IPv6'] as const), { max: 2 }),
      ipFamilyPolicy: enumOf(['SingleStack', 'PreferDualStack', 'RequireDualStack'] as const),
      trafficDistribution: str(),
    },
    { rules: serviceRules },
  );

/** The Service kind; status (load balancer ingress) is kept as is. */
export const serviceKind = kubeKind('Service', ['v1'], {
  spec: { required: true, v: serviceSpec() },
  status: record(anyValue()),
});
