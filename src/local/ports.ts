// Local port checks: is HOST:PORT free to bind, and which free port the kernel would hand out.
import net from 'node:net';

/** True when HOST:PORT can be bound right now (the probe socket is closed again at once). */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port the kernel reports free on HOST (bound and released; a tiny race with others is accepted). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `preferred` when it can be bound on HOST (and is not 0), else a free port. */
export async function preferredOrFree(host: string, preferred: number): Promise<number> {
  if (preferred > 0 && (await canBind(host, preferred))) return preferred;
  return freePort(host);
}

/** True when every port can be bound on HOST. */
export async function allBindable(host: string, ports: readonly number[]): Promise<boolean> {
  for (const p of ports) if (!(await canBind(host, p))) return false;
  return true;
}
