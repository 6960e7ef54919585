// The mesh's DNS server (Istio's DNS proxying, one per mesh): answers A queries for service names from
// the current name table and NXDOMAIN for everything else at once (pods have nowhere to forward to).
// Wire format by dns-packet: a well-kept, dependency-light codec, so no hand-written parser meets the network.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { NameTable } from './name-table.js';

/** TTL of answers (s): short, so a changed address is picked up soon. */
const TTL = 30;
const NXDOMAIN = 3;
const FORMERR = 1;

/** Builds the answer to one query packet; null when the bytes are not a DNS query worth answering. */
export function answer(query: Buffer, table: NameTable): Buffer | null {
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
  const ips = table.get(question.name.toLowerCase().replace(/\.$/, ''));
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

  constructor(private readonly table: () => NameTable) {}

  /** Binds host:port; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket = s;
    s.on('message', (msg: Buffer, from: RemoteInfo) => {
      let reply: Buffer | null;
      try {
        reply = answer(msg, this.table());
      } catch {
        reply = null;
      }
      if (reply !== null) s.send(reply, from.port, from.address);
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
    this.socket?.close();
    this.socket = null;
  }
}
