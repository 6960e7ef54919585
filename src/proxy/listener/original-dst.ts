// The original destination of a connection that iptables REDIRECTed to the proxy (what Envoy's
// original_dst listener filter gets from getsockopt(SO_ORIGINAL_DST)). Node cannot call getsockopt
// without a native addon, so it is read from the conntrack table of the proxy's network namespace
// (/proc/net/nf_conntrack), where the NATed connection's reply tuple names the proxy's side and the
// original tuple names where the client meant to go.
import { readFile } from 'node:fs/promises';
import { logger } from '../log.js';

const log = logger('listener');

/** The conntrack table of this process's network namespace. */
export const CONNTRACK_FILE = '/proc/net/nf_conntrack';

/** An IPv4/IPv6 address and port. */
export interface SocketAddr {
  readonly ip: string;
  readonly port: number;
}

/** `::ffff:1.2.3.4` → `1.2.3.4` (how Node reports IPv4 on dual-stack sockets; conntrack does not). */
function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * Finds the original destination of the connection whose proxy side is `local` and client side is
 * `remote` in a conntrack table's text. Its reply tuple reads `src=<local> dst=<remote>
 * sport=<local port> dport=<remote port>`; the tuple before it on the line is the original one.
 * Null when the connection is not in the table.
 */
export function findOriginalDst(table: string, local: SocketAddr, remote: SocketAddr): SocketAddr | null {
  const key = ` src=${plainIp(local.ip)} dst=${plainIp(remote.ip)} sport=${local.port} dport=${remote.port} `;
  const at = table.indexOf(key);
  if (at < 0) return null;
  const line = table.slice(table.lastIndexOf('\n', at) + 1, at);
  const m = / dst=(\S+) sport=\d+ dport=(\d+)$/.exec(line);
  if (!m) return null;
  return { ip: m[1], port: Number(m[2]) };
}

interface Pending {
  readonly local: SocketAddr;
  readonly remote: SocketAddr;
  readonly done: (dst: SocketAddr | null) => void;
}

/**
 * Looks connections up in the conntrack table. Lookups that arrive while the table is being read
 * wait for the next read, which then answers all of them: a burst of N connections costs about two
 * reads, not N. (The entry exists from the client's SYN on, so a read started after accept finds it.)
 */
export class ConntrackReader {
  private waiting: Pending[] = [];
  private reading = false;
  private warned = false;

  constructor(private readonly file = CONNTRACK_FILE) {}

  /** Calls `done` with the original destination, or null when it is not found or the table cannot be read. */
  lookup(local: SocketAddr, remote: SocketAddr, done: (dst: SocketAddr | null) => void): void {
    this.waiting.push({ local, remote, done });
    if (!this.reading) this.readNext();
  }

  private readNext(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.reading = true;
    readFile(this.file, 'latin1').then(
      (table) => this.answer(batch, table),
      (err: Error) => {
        if (!this.warned) log.warn(`cannot read ${this.file} for original destinations: ${err.message}`);
        this.warned = true;
        this.answer(batch, '');
      },
    );
  }

  private answer(batch: Pending[], table: string): void {
    for (const p of batch) {
      let dst: SocketAddr | null = null;
      try {
        dst = table === '' ? null : findOriginalDst(table, p.local, p.remote);
      } catch {
        dst = null;
      }
      p.done(dst);
    }
    this.reading = false;
    if (this.waiting.length > 0) this.readNext();
  }
}

/** The process's reader (one table per network namespace, and a proxy lives in one). */
export const conntrack = new ConntrackReader();

/** The original destination of an accepted socket (null when unknown: the socket's own address applies). */
export function resolveOriginalDst(
  socket: {
    readonly localAddress?: string;
    readonly localPort?: number;
    remoteAddress?: string;
    remotePort?: number;
  },
  done: (dst: SocketAddr | null) => void,
): void {
  if (!socket.localAddress || !socket.remoteAddress) {
    done(null);
    return;
  }
  conntrack.lookup(
    { ip: socket.localAddress, port: socket.localPort ?? 0 },
    { ip: socket.remoteAddress, port: socket.remotePort ?? 0 },
    done,
  );
}
