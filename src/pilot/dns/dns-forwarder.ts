// Forwarding of the names the mesh does not own to upstream resolvers, as Istio's DNS proxy hands
// them to the pod's original nameservers (and CoreDNS's `forward . /etc/resolv.conf` does in a
// cluster). UDP only; each query gets a fresh random id towards the upstream so answers are matched
// to their client by id and source address, and a bounded number wait at once.
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';

/** One upstream resolver. */
export interface DnsUpstream {
  readonly host: string;
  readonly port: number;
}

export interface DnsForwarderOptions {
  /** How long one upstream gets before the next is tried (the last: SERVFAIL). */
  readonly timeoutMs?: number;
  /** Queries in flight at most; beyond, SERVFAIL at once (a flood must not grow memory). */
  readonly maxPending?: number;
}

const SERVFAIL = 2;
/** A DNS header is 12 bytes; anything shorter is not an answer. */
const HEADER_BYTES = 12;

interface Pending {
  readonly clientId: number;
  readonly query: Buffer;
  readonly reply: (answer: Buffer) => void;
  /** Index into the upstream list of the one asked now. */
  upstream: number;
  timer: NodeJS.Timeout;
}

/** SERVFAIL for a query (its id and question kept), or null when the bytes do not decode. */
export function servfail(query: Buffer): Buffer | null {
  try {
    const q = dnsPacket.decode(query);
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | SERVFAIL,
      questions: q.questions ?? [],
    });
  } catch {
    return null;
  }
}

export class DnsForwarder {
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly pending = new Map<number, Pending>();
  private sockets: { v4?: Socket; v6?: Socket } = {};
  private closed = false;

  constructor(
    readonly upstreams: readonly DnsUpstream[],
    o: DnsForwarderOptions = {},
  ) {
    if (upstreams.length === 0) throw new Error('DnsForwarder needs at least one upstream');
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.maxPending = o.maxPending ?? 1024;
  }

  /** Queries waiting for an upstream (for tests and stats). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `query` upstream; `reply` gets the upstream's answer (client id restored) or a SERVFAIL. */
  forward(query: Buffer, reply: (answer: Buffer) => void): void {
    if (this.closed || query.length < HEADER_BYTES) return;
    if (this.pending.size >= this.maxPending) {
      const f = servfail(query);
      if (f) reply(f);
      return;
    }
    let id = randomInt(0x10000);
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    const p: Pending = {
      clientId: query.readUInt16BE(0),
      query: Buffer.from(query),
      reply,
      upstream: 0,
      timer: setTimeout(() => this.next(id), this.timeoutMs),
    };
    p.query.writeUInt16BE(id, 0);
    this.pending.set(id, p);
    this.send(id, p);
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.sockets.v4?.close();
    this.sockets.v6?.close();
    this.sockets = {};
  }

  private send(id: number, p: Pending): void {
    const u = this.upstreams[p.upstream];
    this.socket(isIPv6(u.host)).send(p.query, u.port, u.host, (err) => {
      // Unreachable (no route, ICMP): try the next upstream now rather than at the timeout.
      if (err && this.pending.get(id) === p) this.next(id);
    });
  }

  /** The asked upstream failed or timed out: the next one, or SERVFAIL after the last. */
  private next(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    if (p.upstream + 1 < this.upstreams.length) {
      p.upstream++;
      p.timer = setTimeout(() => this.next(id), this.timeoutMs);
      this.send(id, p);
      return;
    }
    this.pending.delete(id);
    const f = servfail(p.query);
    if (f) {
      f.writeUInt16BE(p.clientId, 0);
      p.reply(f);
    }
  }

  private socket(v6: boolean): Socket {
    const key = v6 ? 'v6' : 'v4';
    let s = this.sockets[key];
    if (s) return s;
    s = createSocket(v6 ? 'udp6' : 'udp4');
    // ICMP errors of earlier sends surface here on some kernels: never fatal.
    s.on('error', () => {});
    s.on('message', (msg: Buffer, from: RemoteInfo) => this.onAnswer(msg, from));
    this.sockets[key] = s;
    return s;
  }

  private onAnswer(msg: Buffer, from: RemoteInfo): void {
    if (msg.length < HEADER_BYTES) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p) return;
    const u = this.upstreams[p.upstream];
    // Only the asked upstream may answer (a stray or spoofed packet with a guessed id is dropped).
    if (from.port !== u.port || !sameHost(from.address, u.host)) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    const out = Buffer.from(msg);
    out.writeUInt16BE(p.clientId, 0);
    p.reply(out);
  }
}

function sameHost(a: string, b: string): boolean {
  return a === b || a === `::ffff:${b}`;
}

/**
 * Nameservers of a resolv.conf text as upstreams (port 53). Addresses in `exclude` (the mesh DNS's own,
 * which would loop) are left out.
 */
export function resolvConfUpstreams(text: string, exclude: readonly string[] = []): DnsUpstream[] {
  const out: DnsUpstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1].replace(/%.*$/, '');
    if (!exclude.includes(host) && !out.some((u) => u.host === host)) out.push({ host, port: 53 });
  }
  return out;
}

/** `H[:P]` or `[V6]:P` lists as given to --dns-upstream (port 53 when left out). */
export function parseUpstreams(value: string): DnsUpstream[] | string {
  const out: DnsUpstream[] = [];
  for (const raw of value.split(',')) {
    const v = raw.trim();
    if (!v) continue;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:]+)(?::(\d+))?$/.exec(v) ?? [v, v, undefined];
    const host = m[1];
    const port = m[2] === undefined ? 53 : Number(m[2]);
    if (!(port > 0 && port < 65536)) return `bad port in ${JSON.stringify(v)}`;
    if (isIP(host) === 0) return `${JSON.stringify(v)} is not an IP address`;
    out.push({ host, port });
  }
  return out;
}

/** systemd-resolved's stub listener, which only answers on the host's own loopback. */
const RESOLVED_STUB = '127.0.0.53';

/**
 * The host's upstream resolvers, as the kubelet picks them for pods: /etc/resolv.conf, unless it only
 * names systemd-resolved's loopback stub, then the real upstreams resolved keeps in
 * /run/systemd/resolve/resolv.conf. `read` returns a file's text or null.
 */
export function hostUpstreams(
  read: (path: string) => string | null,
  exclude: readonly string[] = [],
): DnsUpstream[] {
  const etc = resolvConfUpstreams(read('/etc/resolv.conf') ?? '', exclude);
  if (etc.length > 0 && etc.every((u) => u.host === RESOLVED_STUB)) {
    const real = resolvConfUpstreams(read('/run/systemd/resolve/resolv.conf') ?? '', exclude);
    if (real.length > 0) return real;
  }
  return etc;
}
