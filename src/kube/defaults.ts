// Names and addresses shared by injection, the webhooks and `mizzen install` (Istio's defaults where Istio has one).
import { mizzenVersion } from '../pilot/version.js';

/** The control plane's namespace and Service name (Istio's, so injected proxies and tools find it). */
export const CONTROL_PLANE_NAMESPACE = 'istio-system';
export const CONTROL_PLANE_SERVICE = 'istiod';
/** xDS (plaintext gRPC) and webhook (HTTPS) ports of the control plane Service. */
export const XDS_PORT = 15010;
export const WEBHOOK_PORT = 15017;

/** The default image of the proxy and the control plane (built from the repository's Dockerfile). */
export function defaultImage(): string {
  return `mizzen/mizzen:${mizzenVersion()}`;
}

/** Where injected proxies find the control plane by default. */
export function defaultDiscoveryAddress(namespace = CONTROL_PLANE_NAMESPACE): string {
  return `${CONTROL_PLANE_SERVICE}.${namespace}.svc:${XDS_PORT}`;
}
