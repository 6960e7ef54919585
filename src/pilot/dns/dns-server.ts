// The mesh's DNS server (Istio's DNS proxying, one per mesh): answers A queries for service names from
// the current name table, NXDOMAIN at once for other names under the cluster domain (it is the
// cluster's DNS), and forwards the rest to the upstream resolvers when it has any (dns-forwarder.ts).
// Wire format by dns-packet: a well-kept, dependency-light codec, so no hand-written parser meets the network.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { NameTable } from './name-table.js';
import type { DnsForwarder } from './dns-forwarder.js';

/** TTL of answers (s): short, so a changed address is picked up soon. */
const TTL = 30;
const NXDOMAIN = 3;
const FORMERR = 1;

/** The cluster domain Kubernetes DNS is authoritative for: unknown names under it are NXDOMAIN, never forwarded. */
const CLUSTER_DOMAIN = 'cluster.local';
/** decide()'s verdict for a query the forwarder takes. */
const FORWARD = 'forward';

/** Builds the answer to one query packet; null when the bytes are not a DNS query worth answering. */
export function answer(query: Buffer, table: NameTable): Buffer | null {
  const a = decide(query, table, false);
  return a === FORWARD ? null : a;
}

/** The answer, or FORWARD for a name outside the mesh and the cluster domain when `canForward`. */
function decide(query: Buffer, table: NameTable, canForward: boolean): Buffer | typeof FORWARD | null {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(query);
  } catch {
    return null;
  }
  if (q.type !== 'query') return null;
  const questions = q.questions ?? [];
  const flags =
    dnsPacket.AUTHORITATIVE_ANSWER |
    ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
    dnsPacket.RECURSION_AVAILABLE;
  if (questions.length !== 1)
    return dnsPacket.encode({ type: 'response', id: q.id, flags: flags | FORMERR, questions });
  const question = questions[0];
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const ips = table.get(name);
  if (ips === undefined && canForward && name !== CLUSTER_DOMAIN && !name.endsWith(`.${CLUSTER_DOMAIN}`))
    return FORWARD;
  if (ips === undefined)
    return dnsPacket.encode({ type: 'response', id: q.id, flags: flags | NXDOMAIN, questions });
  const answers: dnsPacket.Answer[] =
    question.type === 'A'
      ? ips.map((ip) => ({ type: 'A', name: question.name, ttl: TTL, class: 'IN', data: ip }))
      : [];
  return dnsPacket.encode({ type: 'response', id: q.id, flags, questions, answers });
}

/** A UDP DNS server over a name table that may change (read per query). */
export class DnsServer {
  private socket: Socket | null = null;

  constructor(
    private readonly table: () => NameTable,
    /** Where names outside the mesh go; without one they get NXDOMAIN. */
    private readonly forwarder: DnsForwarder | null = null,
  ) {}

  /** Binds host:port; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket = s;
    const send = (reply: Buffer, to: RemoteInfo): void => {
      if (this.socket === s) s.send(reply, to.port, to.address);
    };
    s.on('message', (msg: Buffer, from: RemoteInfo) => {
      let reply: Buffer | typeof FORWARD | null;
      try {
        reply = decide(msg, this.table(), this.forwarder !== null);
      } catch {
        reply = null;
      }
      if (reply === FORWARD) this.forwarder?.forward(msg, (r) => send(r, from));
      else if (reply !== null) send(reply, from);
    });
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, host, () => {
        s.removeListener('error', reject);
        s.on('error', () => {});
        resolve(s.address().port);
      });
    });
  }

  close(): void {
    this.forwarder?.close();
    this.socket?.close();
    this.socket = null;
  }
}
