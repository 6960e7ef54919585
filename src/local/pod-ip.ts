// Pod IPs on loopback for `mizzen up`: 127.1.X.Y per pod (sidecar), 127.2.X.Y for the app behind it.

/** First two octets of pod IPs (what Kubernetes would hand out from the pod CIDR). */
export const POD_IP_PREFIX = '127.1';
/** First two octets of app addresses: the app of pod 127.1.X.Y listens on 127.2.X.Y. */
export const APP_IP_PREFIX = '127.2';

/** Usable host numbers per prefix: X in 0..255, Y in 1..254 (no .0 or .255 so they never look like network/broadcast). */
const SLOTS = 256 * 254;

/** What to keep when allocating. */
export interface PodIpOptions {
  /** Earlier allocations (pod key → IP) to keep when still free, so restarts of `up` keep IPs. */
  readonly previous?: ReadonlyMap<string, string>;
  /** IPs already handed out (by this run) that must not be reused. */
  readonly taken?: ReadonlySet<string>;
  /** Extra check, e.g. "nothing else on this machine is bound to the IP's ports"; false skips the IP. */
  readonly usable?: (podIp: string) => boolean;
}

/** FNV-1a, 32 bit: a stable, well-spread hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function slotIp(prefix: string, slot: number): string {
  return `${prefix}.${Math.floor(slot / 254)}.${(slot % 254) + 1}`;
}

/**
 * Allocates one pod IP per key (`namespace/pod`), in key order. Each key hashes to a home slot, so a
 * pod gets the same IP every time unless another pod or process holds it; then the next free slot
 * is taken (linear probing).
 */
export function allocatePodIps(keys: readonly string[], opts: PodIpOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set(opts.taken ?? []);
  const ok = (ip: string): boolean => !used.has(ip) && (opts.usable ? opts.usable(ip) : true);
  for (const key of keys) {
    const prev = opts.previous?.get(key);
    let ip: string | undefined;
    if (prev && isPodIp(prev) && ok(prev)) ip = prev;
    for (let i = 0, slot = fnv1a(key) % SLOTS; !ip && i < SLOTS; i++, slot = (slot + 1) % SLOTS) {
      const candidate = slotIp(POD_IP_PREFIX, slot);
      if (ok(candidate)) ip = candidate;
    }
    if (!ip) throw new Error(`no free pod IP left in ${POD_IP_PREFIX}.0.0/16`);
    used.add(ip);
    out.set(key, ip);
  }
  return out;
}

/** True for an address in the pod range. */
export function isPodIp(ip: string): boolean {
  const m = /^127\.1\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  return !!m && Number(m[1]) <= 255 && Number(m[2]) >= 1 && Number(m[2]) <= 254;
}

/** The app address behind a pod IP: 127.1.X.Y → 127.2.X.Y. */
export function appIpOf(podIp: string): string {
  if (!isPodIp(podIp)) throw new Error(`${podIp} is not a pod IP (${POD_IP_PREFIX}.X.Y)`);
  return APP_IP_PREFIX + podIp.slice(POD_IP_PREFIX.length);
}
