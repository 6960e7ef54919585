// Local port checks: is HOST:PORT free to bind, and which free port the kernel would hand out.
import net from 'node:net';
import { readFileSync } from 'node:fs';

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

/**
 * A free port on HOST that is not in `handedOut`, which it joins. The kernel may hand out a port
 * again as soon as its probe socket is closed, so a caller choosing several ports before any is bound
 * (a control plane's, then a gateway's) keeps the ones it chose here.
 */
export async function freePortNotIn(
  handedOut: Set<number>,
  host = '127.0.0.1',
  probe: (host: string) => Promise<number> = freePort,
): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const p = await probe(host);
    if (!handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error(`no free port on ${host} beside the ${handedOut.size} already chosen`);
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

/** The kernel's ephemeral port range (where binds to port 0 land), from /proc on Linux. */
export function ephemeralPortRange(): readonly [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (lo > 1024 && hi >= lo) return [lo, hi];
  } catch {
    // Not Linux: fall through to the IANA range most other kernels use.
  }
  return [49152, 65535];
}

/**
 * A free port on HOST below the kernel's ephemeral range, for a process that binds it only later
 * (seconds, after its config arrives): no socket bound to port 0 meanwhile can take it, as it could
 * take one `freePort` returned. Random within the range, so parallel test files rarely try the same.
 */
export async function freeStablePort(host = '127.0.0.1'): Promise<number> {
  return freeBelowEphemeral(host, 0);
}

/** A random port P below the ephemeral range with P and P+`partner` (when > 0) bindable on HOST. */
async function freeBelowEphemeral(host: string, partner: number): Promise<number> {
  const top = Math.min(ephemeralPortRange()[0], 65536) - partner;
  const bottom = 10_000;
  for (let tries = 0; tries < 200; tries++) {
    const p = bottom + Math.floor(Math.random() * (top - bottom));
    if ((await canBind(host, p)) && (partner === 0 || (await canBind(host, p + partner)))) return p;
  }
  throw new Error(`no free port below ${top} on ${host}`);
}

/**
 * A port for a gateway's published port 80 such that PORT and PORT+363 (its 443) are free on HOST and
 * lie below the kernel's ephemeral range, so that no process binding port 0 (a control plane, a
 * Prometheus, another test's proxies) can take them between this choice and the gateway's bind, as
 * `freePort` allows. Random within the range, so parallel test files rarely try the same one.
 */
export async function freeGatewayPort(host = '127.0.0.1'): Promise<number> {
  return freeBelowEphemeral(host, 363);
}
