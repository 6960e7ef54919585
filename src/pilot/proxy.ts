// The proxy a generator builds for: parsed from the ADS node id and Istio node metadata.
import type { ProxyInfo } from '../xds/ads-server.js';
import type { Locality } from '../registry/model.js';
import { parseLocality, NO_LOCALITY, proxyLocalityFromLabels } from '../registry/locality.js';

/** How traffic reaches the proxy (Istio's INTERCEPTION_MODE). */
export type InterceptionMode = 'REDIRECT' | 'TPROXY' | 'NONE';

/** A connected proxy as the generators see it. */
export interface Proxy {
  /** Node id as sent. */
  readonly id: string;
  /** `sidecar` (also proxyless gRPC) or `router` (gateways). */
  readonly type: 'sidecar' | 'router';
  /** First instance IP (INSTANCE_IPS[0], else the node id's IP). */
  readonly ip: string;
  /** Every instance IP (INSTANCE_IPS, comma separated in Istio's metadata). */
  readonly ips: readonly string[];
  /** Pod or workload name (node id `<pod>.<ns>` part, else WORKLOAD_NAME / NAME). */
  readonly name: string;
  readonly namespace: string;
  /** Workload labels (metadata LABELS). */
  readonly labels: Readonly<Record<string, string>>;
  readonly interceptionMode: InterceptionMode;
  /** `grpc` for proxyless gRPC clients (metadata GENERATOR). */
  readonly generator: string;
  /** Where the app listens in local mode (metadata MIZZEN_APP_HOST); '' when absent. */
  readonly appHost: string;
  /** Added to gateway ports below 1024 (MIZZEN_GATEWAY_PORT_OFFSET; default 8000 when interception is NONE, else 0). */
  readonly gatewayPortOffset: number;
  readonly locality: Locality;
  /**
   * Local mode's stand-in for kube-proxy in front of a pod without a sidecar (metadata
   * MIZZEN_NO_SIDECAR): outbound HTTP proxy only, plaintext, no inbound listeners, no certificate.
   */
  readonly noSidecar: boolean;
  /** Node metadata as plain JSON. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Builds the Proxy from what the ADS server learned on the stream. */
export function parseProxy(info: Pick<ProxyInfo, 'id' | 'metadata' | 'node'>): Proxy {
  const md = info.metadata ?? {};
  const parts = info.id.split('~');
  const type = parts[0] === 'router' ? 'router' : 'sidecar';
  const str = (k: string): string => (typeof md[k] === 'string' ? md[k] : '');
  const ips = str('INSTANCE_IPS')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const idIp = parts.length >= 4 ? parts[1] : '';
  // INSTANCE_IPS[0] is where local-mode listeners bind; the node id's IP is the fallback.
  const ip = ips[0] || idIp || '';
  if (ip && !ips.includes(ip)) ips.push(ip);
  const podPart = parts.length >= 4 ? parts[2] : '';
  const dot = podPart.lastIndexOf('.');
  const idName = dot > 0 ? podPart.slice(0, dot) : podPart;
  const idNs = dot > 0 ? podPart.slice(dot + 1) : '';
  const namespace = str('NAMESPACE') || idNs || 'default';
  const mode = str('INTERCEPTION_MODE').toUpperCase();
  const interceptionMode: InterceptionMode =
    mode === 'NONE' ? 'NONE' : mode === 'TPROXY' ? 'TPROXY' : 'REDIRECT';
  const offsetRaw = md.MIZZEN_GATEWAY_PORT_OFFSET;
  const offset = Number(offsetRaw);
  const gatewayPortOffset =
    offsetRaw !== undefined && offsetRaw !== '' && Number.isFinite(offset)
      ? offset
      : interceptionMode === 'NONE'
        ? 8000
        : 0;
  const labels: Record<string, string> = {};
  if (md.LABELS && typeof md.LABELS === 'object')
    for (const [k, v] of Object.entries(md.LABELS as Record<string, unknown>)) labels[k] = String(v);
  // Istio's order (pilot's setTopologyLabels): the proxy's locality labels, else the node's locality.
  const nodeLoc = info.node?.locality;
  const locality: Locality =
    proxyLocalityFromLabels(labels) ??
    (nodeLoc && (nodeLoc.region || nodeLoc.zone || nodeLoc.subZone)
      ? { region: nodeLoc.region ?? '', zone: nodeLoc.zone ?? '', subZone: nodeLoc.subZone ?? '' }
      : str('ISTIO_META_LOCALITY')
        ? parseLocality(str('ISTIO_META_LOCALITY'))
        : NO_LOCALITY);
  return {
    id: info.id,
    type,
    ip,
    ips,
    name: idName || str('WORKLOAD_NAME') || str('NAME'),
    namespace,
    labels,
    interceptionMode,
    generator: str('GENERATOR'),
    appHost: str('MIZZEN_APP_HOST'),
    gatewayPortOffset,
    locality,
    noSidecar: md.MIZZEN_NO_SIDECAR === true || md.MIZZEN_NO_SIDECAR === 'true',
    metadata: md,
  };
}
