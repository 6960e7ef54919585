// The iptables nat rules the injected init container loads (iptables-restore input), in istio-iptables'
// chain layout: inbound TCP to the sidecar's 15006, outbound TCP to its 15001, the proxy's uid/gid exempt.

/** Outbound capture port (virtualOutbound) and inbound capture port (virtualInbound). */
export const OUTBOUND_PORT = 15001;
export const INBOUND_PORT = 15006;
/** The sidecar's uid and gid (Istio's istio-proxy): its own traffic is never captured. */
export const PROXY_UID = 1337;
/** Inbound ports never captured (Istio: 15008 HBONE, 15090 Prometheus, 15021 status, 15020 merged metrics). */
export const EXCLUDED_INBOUND = [15008, 15090, 15021, 15020];

/** What to capture (from the pod's traffic.sidecar.istio.io/* annotations). */
export interface CaptureSpec {
  /** '*' or the inbound ports to capture. */
  readonly includeInboundPorts: '*' | readonly number[];
  readonly excludeInboundPorts: readonly number[];
  /** '*' or the outbound CIDRs to capture. */
  readonly includeOutboundIPRanges: '*' | readonly string[];
  readonly excludeOutboundIPRanges: readonly string[];
  readonly includeOutboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
}

/** iptables-restore input for one pod's network namespace. */
export function captureRules(spec: CaptureSpec): string {
  const r: string[] = [
    '*nat',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_IN_REDIRECT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_REDIRECT - [0:0]',
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${INBOUND_PORT}`,
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${OUTBOUND_PORT}`,
  ];
  // Inbound.
  const inbound = spec.includeInboundPorts;
  if (inbound === '*' || inbound.length > 0) {
    r.push('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    if (inbound === '*') {
      for (const p of new Set([...EXCLUDED_INBOUND, ...spec.excludeInboundPorts]))
        r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
      r.push('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
    } else {
      for (const p of inbound) r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
    }
  }
  // Outbound: the proxy's own traffic returns; loopback to the pod's own IP by the proxy goes inbound.
  r.push('-A OUTPUT -p tcp -j ISTIO_OUTPUT', '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN');
  for (const m of ['--uid-owner', '--gid-owner']) {
    r.push(
      `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner ${m} ${PROXY_UID} -j ISTIO_IN_REDIRECT`,
      `-A ISTIO_OUTPUT -o lo -m owner ! ${m} ${PROXY_UID} -j RETURN`,
      `-A ISTIO_OUTPUT -m owner ${m} ${PROXY_UID} -j RETURN`,
    );
  }
  r.push('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN');
  for (const p of spec.excludeOutboundPorts) r.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j RETURN`);
  for (const p of spec.includeOutboundPorts) r.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j ISTIO_REDIRECT`);
  for (const c of spec.excludeOutboundIPRanges) r.push(`-A ISTIO_OUTPUT -d ${c} -j RETURN`);
  if (spec.includeOutboundIPRanges === '*') r.push('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  else for (const c of spec.includeOutboundIPRanges) r.push(`-A ISTIO_OUTPUT -d ${c} -j ISTIO_REDIRECT`);
  r.push('COMMIT', '');
  return r.join('\n');
}
