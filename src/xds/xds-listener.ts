// The xDS port's TCP listener: a listen backlog as deep as the kernel allows (what istiod gets from Go's
// net.Listen), with the accepted connections handed to the gRPC server.
//
// Why not grpc-js' bindAsync: it listens with Node's default backlog of 511. When 2000 proxies connect at
// once (a control plane restart, a cold start) while the server is busy generating their first
// responses, the kernel's accept queue overflows and the overflowing connections are reset
// (`read ECONNRESET` at the client, TcpExtListenOverflows in `nstat`). Go sizes the queue from
// /proc/sys/net/core/somaxconn, 4096 on current kernels.
import type * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP, createServer, type Server } from 'node:net';

/** A bound xDS port. */
export interface XdsListener {
  /** The port bound (the one chosen when the address asked for port 0). */
  readonly port: number;
  /** The accept queue's length asked of the kernel (0 when gRPC bound a host name with its own default). */
  readonly backlog: number;
  /** Stops accepting; the gRPC server's own shutdown ends the connections already accepted. */
  close(): void;
}

/** The kernel's cap on a listen backlog (net.core.somaxconn), 4096 when it cannot be read. */
export function maxListenBacklog(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number {
  try {
    const n = Number(read('/proc/sys/net/core/somaxconn').trim());
    return Number.isInteger(n) && n > 0 ? Math.min(n, 65535) : 4096;
  } catch {
    return 4096;
  }
}

/** `host:port` or `[v6]:port` → its parts; the host without brackets. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(i + 1)) };
}

/**
 * Binds `address` for `server`. An IP address (0.0.0.0 and :: included) is listened on here with the
 * deepest backlog the kernel allows and its connections injected into the gRPC server; a host name is
 * left to gRPC's bindAsync, which binds every address the name resolves to.
 */
export async function listenXds(
  server: grpc.Server,
  credentials: grpc.ServerCredentials,
  address: string,
  onAcceptError: (err: Error) => void = () => {},
): Promise<XdsListener> {
  const { host, port } = splitHostPort(address);
  if (isIP(host) === 0) return bindWithGrpc(server, credentials, address);
  const injector = server.createConnectionInjector(credentials);
  const backlog = maxListenBacklog();
  const tcp: Server = createServer((socket) => injector.injectConnection(socket));
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host, port, backlog }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    injector.destroy(); // the gRPC server keeps no half-made listener (EADDRINUSE, EACCES, ...)
    const e = err as NodeJS.ErrnoException;
    const next =
      e.code === 'EADDRINUSE'
        ? ': something else listens there; stop it or choose another address'
        : e.code === 'EADDRNOTAVAIL'
          ? ': no interface of this host has that address'
          : '';
    throw Object.assign(new Error(`cannot listen for xDS on ${address} (${e.code ?? e.message})${next}`), {
      code: e.code,
    });
  }
  // An accept error after start (EMFILE, ...) must not kill the process: Node's net.Server keeps
  // listening and accepts again on the next readable event.
  tcp.on('error', onAcceptError);
  const bound = tcp.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    backlog,
    close: () => {
      tcp.close();
      injector.destroy();
    },
  };
}

function bindWithGrpc(
  server: grpc.Server,
  credentials: grpc.ServerCredentials,
  address: string,
): Promise<XdsListener> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) return reject(err);
      // The gRPC server's shutdown closes what bindAsync bound.
      resolve({ port, backlog: 0, close: () => {} });
    });
  });
}
