// Transparent capture as istio-init sets it up: the iptables nat rules of a pod's network namespace
// (iptables-restore input) that send inbound TCP to the sidecar's 15006 and outbound TCP to its 15001,
// with Istio's traffic.sidecar.istio.io/* annotations honoured.

/** The sidecar's group: its traffic is never captured (Istio's istio-proxy uid/gid). */
export const PROXY_GID = 1337;
/** Istio's proxy uid, excluded too, so a proxy run as uid 1337 works as in Istio. */
export const PROXY_UID = 1337;
/** Outbound capture port (virtualOutbound). */
export const OUTBOUND_CAPTURE_PORT = 15001;
/** Inbound capture port (virtualInbound). */
export const INBOUND_CAPTURE_PORT = 15006;
/**
 * Inbound ports never captured: Istio's 15008 (HBONE), 15090 (Prometheus), 15021 (health), 15020
 * (merged metrics), plus 15000, where a pod-mode sidecar publishes its admin on the pod IP.
 */
export const ALWAYS_EXCLUDED_INBOUND = [15000, 15008, 15020, 15021, 15090];

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

/** The plan from a pod's annotations, with a note per value that is not used (bad port, bad CIDR, ...). */
export function capturePlan(annotations: Readonly<Record<string, string>>): {
  plan: CapturePlan;
  notes: string[];
} {
  const notes: string[] = [];
  const a = CAPTURE_ANNOTATIONS;
  const ports = (key: string): number[] => {
    const out: number[] = [];
    for (const v of list(annotations[key])) {
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (n >= 1 && n <= 65535) out.push(n);
      else notes.push(`annotation ${key}: "${v}" is not a port (1-65535); ignored`);
    }
    return out;
  };
  const cidrs = (key: string): string[] => {
    const out: string[] = [];
    for (const v of list(annotations[key])) {
      if (isIpv4Cidr(v)) out.push(v.includes('/') ? v : `${v}/32`);
      else notes.push(`annotation ${key}: "${v}" is not an IPv4 CIDR (IPv6 is not captured); ignored`);
    }
    return out;
  };
  const mode = annotations[a.interceptionMode];
  if (mode !== undefined && mode !== 'REDIRECT')
    notes.push(`annotation ${a.interceptionMode}: "${mode}" is not supported locally; REDIRECT is used`);
  const star = (key: string): boolean => (annotations[key] ?? '*').trim() === '*';
  const plan: CapturePlan = {
    includeInboundPorts: star(a.includeInboundPorts) ? '*' : ports(a.includeInboundPorts),
    excludeInboundPorts: ports(a.excludeInboundPorts),
    includeOutboundIPRanges: star(a.includeOutboundIPRanges) ? '*' : cidrs(a.includeOutboundIPRanges),
    excludeOutboundIPRanges: cidrs(a.excludeOutboundIPRanges),
    includeOutboundPorts: ports(a.includeOutboundPorts),
    excludeOutboundPorts: ports(a.excludeOutboundPorts),
  };
  return { plan, notes };
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function isIpv4Cidr(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
  if (!m) return false;
  if ([m[1], m[2], m[3], m[4]].some((o) => Number(o) > 255)) return false;
  return m[5] === undefined || Number(m[5]) <= 32;
}

/** iptables-restore input for the pod's nat table, in istio-init's chain names and order. */
export function captureRules(plan: CapturePlan): string {
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
    for (const p of [...ALWAYS_EXCLUDED_INBOUND, ...plan.excludeInboundPorts])
      r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
    if (inbound === '*') r.push('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
    else for (const p of inbound) r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
  }
  // Outbound: everything the pod's processes send, except the proxy's own connections.
  r.push('-A OUTPUT -p tcp -j ISTIO_OUTPUT');
  for (const p of plan.excludeOutboundPorts) r.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j RETURN`);
  r.push('-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
  // Mizzen's sidecar runs with gid 1337 (its uid stays, so it reads the run directory): the gid
  // block first. Unlike istio-init, the proxy's own connections to its pod IP are not sent back to
  // inbound: Mizzen's inbound passthrough does not bind 127.0.0.6, so that would loop.
  for (const [flag, id] of [
    ['--gid-owner', PROXY_GID],
    ['--uid-owner', PROXY_UID],
  ] as const) {
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
