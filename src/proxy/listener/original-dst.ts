// The original destination of a connection that iptables REDIRECTed to the proxy (what Envoy's
// original_dst listener filter gets from getsockopt(SO_ORIGINAL_DST)). Node cannot call getsockopt
// without a native addon, so it is read from the conntrack table of the proxy's network namespace
// (/proc/net/nf_conntrack), where the NATed connection's reply tuple names the proxy's side and the
// original tuple names where the client meant to go.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
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

/** How long an event waits to be claimed before it is dropped (ms): redirected connections are accepted at once. */
const EVENT_KEEP_MS = 10_000;
/** How long a lookup waits for its event before reading the table instead (ms). */
const EVENT_WAIT_MS = 500;

/** `conntrack -E` NEW event: the original tuple, then (after [UNREPLIED]) the reply tuple. */
const EVENT_LINE = /src=(\S+) dst=(\S+) sport=\d+ dport=(\d+) .*?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/;

function tupleKey(local: SocketAddr, remote: SocketAddr): string {
  return `${plainIp(local.ip)}:${local.port}>${plainIp(remote.ip)}:${remote.port}`;
}

/** Parses one event line into [key of the proxy's side, original destination]; null for other lines. */
export function parseConntrackEvent(line: string): [string, SocketAddr] | null {
  const m = EVENT_LINE.exec(line);
  if (!m) return null;
  const key = tupleKey({ ip: m[4], port: Number(m[6]) }, { ip: m[5], port: Number(m[7]) });
  return [key, { ip: m[2], port: Number(m[3]) }];
}

interface Waiter {
  readonly done: (dst: SocketAddr | null) => void;
  readonly local: SocketAddr;
  readonly remote: SocketAddr;
  readonly since: number;
}

/**
 * Original destinations from the kernel's conntrack events (`conntrack -E -e NEW --dst-nat`, one
 * long-lived child in the proxy's namespace): every redirected connection is announced at its SYN,
 * so a lookup is a map read instead of a walk over the whole table (which costs tens of ms once the
 * table holds thousands of TIME_WAIT entries; see bench/conntrack-lookup.ts). Lookups whose event
 * has not come within EVENT_WAIT_MS, or any lookup when the tool cannot run, read the table.
 */
export class ConntrackEvents {
  private current = new Map<string, SocketAddr>();
  private previous = new Map<string, SocketAddr>();
  private readonly waiters = new Map<string, Waiter>();
  private child: ChildProcess | null = null;
  private failed = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private rotatedAt = 0;

  constructor(private readonly table: ConntrackReader) {}

  lookup(local: SocketAddr, remote: SocketAddr, done: (dst: SocketAddr | null) => void): void {
    if (this.failed || !this.ensureStarted()) return this.table.lookup(local, remote, done);
    const key = tupleKey(local, remote);
    const dst = this.take(key);
    if (dst !== null) return done(dst);
    this.waiters.set(key, { done, local, remote, since: performance.now() });
  }

  private take(key: string): SocketAddr | null {
    const dst = this.current.get(key) ?? this.previous.get(key) ?? null;
    if (dst !== null) {
      this.current.delete(key);
      this.previous.delete(key);
    }
    return dst;
  }

  private ensureStarted(): boolean {
    if (this.child !== null) return true;
    let child: ChildProcess;
    try {
      child = spawn('conntrack', ['-E', '-e', 'NEW', '-p', 'tcp', '--dst-nat'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      return this.fail('cannot start conntrack');
    }
    this.child = child;
    child.on('error', (e) => this.fail(`conntrack: ${e.message}`));
    child.on('exit', (code) => this.fail(`conntrack -E exited (${code})`));
    createInterface({ input: child.stdout! }).on('line', (line) => this.event(line));
    this.rotatedAt = performance.now();
    this.timer = setInterval(() => this.tick(), 100);
    this.timer.unref();
    return true;
  }

  private event(line: string): void {
    const e = parseConntrackEvent(line);
    if (e === null) return;
    const w = this.waiters.get(e[0]);
    if (w !== undefined) {
      this.waiters.delete(e[0]);
      w.done(e[1]);
    } else this.current.set(e[0], e[1]);
  }

  /** Drops unclaimed events after EVENT_KEEP_MS; sends late lookups to the table. */
  private tick(): void {
    const now = performance.now();
    if (now - this.rotatedAt >= EVENT_KEEP_MS) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
    for (const [key, w] of this.waiters)
      if (now - w.since >= EVENT_WAIT_MS) {
        this.waiters.delete(key);
        this.table.lookup(w.local, w.remote, w.done);
      }
  }

  private fail(why: string): false {
    if (!this.failed) log.warn(`${why}; original destinations are read from ${CONNTRACK_FILE} instead`);
    this.failed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const w of this.waiters.values()) this.table.lookup(w.local, w.remote, w.done);
    this.waiters.clear();
    this.child?.kill();
    return false;
  }
}

/** The process's lookups (one conntrack table per network namespace, and a proxy lives in one). */
export const conntrack = new ConntrackEvents(new ConntrackReader());

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
