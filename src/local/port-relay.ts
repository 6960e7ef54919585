// Publishing a rootless mesh's loopback ports on the host. The mesh's network namespace has no link to
// the host's, so the host side (the `up` process the user started) listens on 127.0.0.1:PORT and
// carries each connection over a Unix socket in the run directory (file system sockets are not bound
// to a network namespace) to the inner `up`, which connects to 127.0.0.1:PORT in the mesh —
// rootlesskit's "builtin" port driver, by hand because it is a few dozen lines on node:net.
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** The longest first line a relay client sends ("65535\n"). */
const MAX_HEADER = 6;

/** Joins two sockets both ways; either's error or close ends both. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

/**
 * The inner side: a Unix socket server at `path` (mode 0600) that reads `PORT\n` and splices the rest
 * of the connection to `host`:PORT (127.0.0.1 of this namespace).
 */
export async function startPortRelay(path: string, host = '127.0.0.1'): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((conn) => {
    let head = Buffer.alloc(0);
    conn.on('error', () => conn.destroy());
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > MAX_HEADER) conn.destroy();
        return;
      }
      conn.off('data', onData);
      conn.pause();
      const port = Number(head.subarray(0, nl).toString('latin1'));
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        conn.destroy();
        return;
      }
      const rest = head.subarray(nl + 1);
      const up = connect({ host, port });
      // A client gone while the inner connection is still being made takes that connection with it.
      const drop = (): void => {
        up.destroy();
      };
      conn.once('close', drop);
      up.once('connect', () => {
        conn.off('close', drop);
        if (rest.length) up.write(rest);
        splice(conn, up);
        conn.resume();
      });
      up.once('error', () => {
        up.destroy();
        conn.destroy();
      });
    };
    conn.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.on('error', () => {});
  return server;
}

/** The host side: 127.0.0.1 listeners whose connections go through the relay at `path`. */
export class PortPublisher {
  private readonly servers = new Map<number, Server>();
  /** Ports already reported as taken on the host. */
  private readonly refused = new Set<number>();

  constructor(
    private readonly path: string,
    private readonly say: (line: string) => void,
  ) {}

  /** Ports currently published. */
  get ports(): number[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  /** Publishes each of `ports` not yet published (a port busy on the host is said once and skipped). */
  async publish(ports: Iterable<number>): Promise<void> {
    for (const port of ports) {
      if (this.servers.has(port) || this.refused.has(port)) continue;
      const server = createServer((conn) => {
        conn.on('error', () => conn.destroy());
        const relay = connect(this.path);
        relay.on('error', () => {
          relay.destroy();
          conn.destroy();
        });
        relay.write(`${port}\n`);
        splice(conn, relay);
      });
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ host: '127.0.0.1', port }, () => resolve(true));
      });
      if (!ok) {
        this.refused.add(port);
        this.say(`127.0.0.1:${port} is in use on this machine: the mesh's port ${port} is not published`);
        continue;
      }
      server.on('error', () => {});
      this.servers.set(port, server);
    }
  }

  close(): void {
    for (const s of this.servers.values()) s.close();
    this.servers.clear();
  }
}
