// Node ids and node metadata of the proxies `mizzen up` starts, as Istio's injector and gateway set them.
import { fnv1a } from './pod-ip.js';
import type { PodPlan } from './manifest-to-pods.js';
import type { PodAddress } from './pod-env.js';

/** Namespace of the ingress gateway (Istio's default install). */
export const GATEWAY_NAMESPACE = 'istio-system';
/** Labels of the ingress gateway that Gateway selectors match. */
export const GATEWAY_LABELS: Readonly<Record<string, string>> = {
  istio: 'ingressgateway',
  app: 'istio-ingressgateway',
};

/** `sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local`. */
export function sidecarNodeId(pod: PodPlan, podIp: string): string {
  return `sidecar~${podIp}~${pod.name}.${pod.namespace}~${pod.namespace}.svc.cluster.local`;
}

/** Node metadata of a sidecar in interception mode NONE, with the app address behind it. */
export function sidecarMetadata(pod: PodPlan, addr: PodAddress): Record<string, unknown> {
  return {
    NAME: pod.name,
    NAMESPACE: pod.namespace,
    LABELS: { ...pod.labels },
    WORKLOAD_NAME: pod.workload,
    SERVICE_ACCOUNT: pod.serviceAccount,
    INSTANCE_IPS: addr.podIp,
    INTERCEPTION_MODE: 'NONE',
    CLUSTER_ID: 'Kubernetes',
    MIZZEN_APP_HOST: addr.appIp,
    // `sidecar.istio.io/inject: "false"`: this proxy only stands in for kube-proxy (plaintext, outbound).
    ...(pod.sidecar === false ? { MIZZEN_NO_SIDECAR: true } : {}),
  };
}

/** The gateway pod's name: `istio-ingressgateway-<hash>-<suffix>`, stable per run directory. */
export function gatewayPodName(seed: string): string {
  const h = fnv1a(`istio-ingressgateway/${seed}`).toString(36).padStart(7, '0');
  return `istio-ingressgateway-${h.slice(0, 7)}-${fnv1a(seed).toString(36).slice(0, 5)}`;
}

/** `router~127.0.0.1~<gateway pod>.istio-system~istio-system.svc.cluster.local`. */
export function gatewayNodeId(podName: string): string {
  return `router~127.0.0.1~${podName}.${GATEWAY_NAMESPACE}~${GATEWAY_NAMESPACE}.svc.cluster.local`;
}

/** Node metadata of the ingress gateway; ports below 1024 are published at port + offset. */
export function gatewayMetadata(podName: string, portOffset: number): Record<string, unknown> {
  return {
    NAME: podName,
    NAMESPACE: GATEWAY_NAMESPACE,
    LABELS: { ...GATEWAY_LABELS },
    WORKLOAD_NAME: 'istio-ingressgateway',
    SERVICE_ACCOUNT: 'istio-ingressgateway-service-account',
    INTERCEPTION_MODE: 'NONE',
    CLUSTER_ID: 'Kubernetes',
    MIZZEN_GATEWAY_PORT_OFFSET: String(portOffset),
  };
}
