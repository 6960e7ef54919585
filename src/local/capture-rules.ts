// Transparent capture as istio-init sets it up, for both `mizzen up`'s pod namespaces and the init
// container `kube-inject` adds: the pod's traffic.sidecar.istio.io/* annotations parsed once, and the
// iptables nat rules (iptables-restore input) sending inbound TCP to the sidecar's 15006 and outbound
// TCP to its 15001.
import { isIP } from 'node:net';

/** The sidecar's group: its traffic is never captured (Istio's istio-proxy uid/gid). */
export const PROXY_GID = 1337;
/** Istio's proxy uid, excluded too (the injected proxy runs as it). */
export const PROXY_UID = 1337;
/** Outbound capture port (virtualOutbound). */
export const OUTBOUND_CAPTURE_PORT = 15001;
/** Inbound capture port (virtualInbound). */
export const INBOUND_CAPTURE_PORT = 15006;

/** The annotations that shape capture (Istio's names). */
export const CAPTURE_ANNOTATIONS = {
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  includeOutboundPorts: 'traffic.sidecar.istio.io/includeOutboundPorts',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  interceptionMode: 'sidecar.istio.io/interceptionMode',
} as const;

/** What to capture, parsed from the annotations. */
export interface CapturePlan {
  /** '*' or the ports to capture inbound. */
  readonly includeInboundPorts: '*' | readonly number[];
  readonly excludeInboundPorts: readonly number[];
  /** '*' or the CIDRs to capture outbound. */
  readonly includeOutboundIPRanges: '*' | readonly string[];
  readonly excludeOutboundIPRanges: readonly string[];
  readonly includeOutboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
}

/** One annotation value that is not used. */
export interface CaptureProblem {
  /** The annotation key. */
  readonly key: string;
  /** What is wrong, starting with the value (`"http" is not a port (1-65535)`). */
  readonly message: string;
}

/** Who the rules are for: the two differ only where their proxies differ. */
export interface CaptureTarget {
  /**
   * Kubernetes (the injected init container): CIDRs as Istio writes them (IPv4 or IPv6, with a prefix
   * length). Local pods: IPv4 only (a bare address means /32), as IPv6 is not captured there.
   */
  readonly kubernetes: boolean;
  /** Inbound ports never captured. */
  readonly excludedInbound: readonly number[];
  /**
   * istio-init's rule that sends the proxy's own loopback connections to its pod IP back to inbound.
   * Off locally: Mizzen's inbound passthrough there does not bind 127.0.0.6, so that would loop.
   */
  readonly proxyLoopbackToInbound: boolean;
}

/** The injected sidecar: Istio's 15008 (HBONE), 15090 (Prometheus), 15021 (health), 15020 (merged metrics). */
export const KUBERNETES_CAPTURE: CaptureTarget = {
  kubernetes: true,
  excludedInbound: [15008, 15090, 15021, 15020],
  proxyLoopbackToInbound: true,
};

/** A `mizzen up` pod: also 15000, where its sidecar publishes admin on the pod IP. */
export const LOCAL_CAPTURE: CaptureTarget = {
  kubernetes: false,
  excludedInbound: [15000, 15008, 15020, 15021, 15090],
  proxyLoopbackToInbound: false,
};

/** The plan from a pod's annotations, and each value it does not use. */
export function capturePlan(
  annotations: Readonly<Record<string, string>>,
  target: CaptureTarget = LOCAL_CAPTURE,
): { plan: CapturePlan; problems: CaptureProblem[]; notes: string[] } {
  const problems: CaptureProblem[] = [];
  const a = CAPTURE_ANNOTATIONS;
  const ports = (key: string): number[] =>
    list(annotations[key]).flatMap((v) => {
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (n >= 1 && n <= 65535) return [n];
      problems.push({ key, message: `"${v}" is not a port (1-65535)` });
      return [];
    });
  const cidrs = (key: string): string[] =>
    list(annotations[key]).flatMap((v) => {
      const c = target.kubernetes ? (isCidr(v) ? v : null) : ipv4Cidr(v);
      if (c !== null) return [c];
      problems.push({
        key,
        message: target.kubernetes
          ? `"${v}" is not a CIDR (e.g. 10.0.0.0/8)`
          : `"${v}" is not an IPv4 CIDR (IPv6 is not captured)`,
      });
      return [];
    });
  const mode = annotations[a.interceptionMode];
  if (mode !== undefined && mode !== 'REDIRECT')
    problems.push({ key: a.interceptionMode, message: `"${mode}" is not supported (only REDIRECT)` });
  const star = (key: string): boolean => (annotations[key] ?? '*').trim() === '*';
  const plan: CapturePlan = {
    includeInboundPorts: star(a.includeInboundPorts) ? '*' : ports(a.includeInboundPorts),
    excludeInboundPorts: ports(a.excludeInboundPorts),
    includeOutboundIPRanges: star(a.includeOutboundIPRanges) ? '*' : cidrs(a.includeOutboundIPRanges),
    excludeOutboundIPRanges: cidrs(a.excludeOutboundIPRanges),
    includeOutboundPorts: ports(a.includeOutboundPorts),
    excludeOutboundPorts: ports(a.excludeOutboundPorts),
  };
  const notes = problems.map((p) => `annotation ${p.key}: ${p.message}; ignored`);
  return { plan, problems, notes };
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `a.b.c.d[/n]` → `a.b.c.d/n` (bare address: /32), else null. */
function ipv4Cidr(s: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  if ([m[1], m[2], m[3], m[4]].some((o) => Number(o) > 255)) return null;
  if (m[5] !== undefined && Number(m[5]) > 32) return null;
  return s.includes('/') ? s : `${s}/32`;
}

/** An IPv4 or IPv6 prefix with its length (`10.0.0.0/8`, `fd00::/8`). */
function isCidr(v: string): boolean {
  const [ip, bits, extra] = v.split('/');
  if (extra !== undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/** iptables-restore input for the pod's nat table, in istio-init's chain names and order. */
export function captureRules(plan: CapturePlan, target: CaptureTarget = LOCAL_CAPTURE): string {
  const r: string[] = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_IN_REDIRECT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_REDIRECT - [0:0]',
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${INBOUND_CAPTURE_PORT}`,
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${OUTBOUND_CAPTURE_PORT}`,
  ];
  // Inbound: everything arriving from outside the pod, except the proxy's own ports.
  const inbound = plan.includeInboundPorts;
  if (inbound === '*' || inbound.length > 0) {
    r.push('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    for (const p of new Set([...target.excludedInbound, ...plan.excludeInboundPorts]))
      r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
    if (inbound === '*') r.push('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
    else for (const p of inbound) r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
  }
  // Outbound: everything the pod's processes send, except the proxy's own connections.
  r.push('-A OUTPUT -p tcp -j ISTIO_OUTPUT');
  for (const p of plan.excludeOutboundPorts) r.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j RETURN`);
  r.push('-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
  for (const [flag, id] of [
    ['--uid-owner', PROXY_UID],
    ['--gid-owner', PROXY_GID],
  ] as const) {
    if (target.proxyLoopbackToInbound)
      r.push(`-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner ${flag} ${id} -j ISTIO_IN_REDIRECT`);
    r.push(`-A ISTIO_OUTPUT -o lo -m owner ! ${flag} ${id} -j RETURN`);
    r.push(`-A ISTIO_OUTPUT -m owner ${flag} ${id} -j RETURN`);
  }
  r.push('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN');
  for (const p of plan.includeOutboundPorts) r.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j ISTIO_REDIRECT`);
  for (const c of plan.excludeOutboundIPRanges) r.push(`-A ISTIO_OUTPUT -d ${c} -j RETURN`);
  const outbound = plan.includeOutboundIPRanges;
  if (outbound === '*') r.push('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  else for (const c of outbound) r.push(`-A ISTIO_OUTPUT -d ${c} -j ISTIO_REDIRECT`);
  r.push('COMMIT', '');
  return r.join('\n');
}
