// Readiness probes for local pods: the proxy's admin /ready and a TCP connect to the app's port.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { PodRecord } from './run-state.js';

/** True when a TCP connection to host:port opens within the timeout (ms). */
export function tcpReady(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** GETs a URL; resolves to the status code (0 when unreachable) and body. */
export function httpGet(url: string, timeoutMs = 1000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** True when the proxy's admin `/ready` answers 200 (Envoy: LIVE, initial config received). */
export async function proxyReady(adminPort: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<boolean> {
  return (await httpGet(`http://${host}:${adminPort}/ready`, timeoutMs)).status === 200;
}

/**
 * True when some socket of the network namespace of process `pid` listens on TCP `port` (any address),
 * from /proc/PID/net/tcp{,6}: a pod's app is probed without entering its namespace, and without going
 * through the capture rules that would hand the probe to the sidecar.
 */
export function listensIn(pid: number, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const f of ['tcp', 'tcp6']) {
    let table: string;
    try {
      table = readFileSync(`/proc/${pid}/net/${f}`, 'latin1');
    } catch {
      continue;
    }
    // Lines: "sl local_address rem_address st ..."; LISTEN is st 0A.
    for (const line of table.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && `${cols[1]} `.endsWith(hex)) return true;
    }
  }
  return false;
}

/** Readiness of one pod's two halves. */
export interface PodReadiness {
  readonly sidecar: boolean;
  /** Every declared port of the app accepts connections (a pod without ports: true). */
  readonly app: boolean;
}

/** Probes one pod; `podPid` is a process inside the pod's network namespace (pod network mode). */
export async function podReadiness(pod: PodRecord, podPid?: number | null): Promise<PodReadiness> {
  const [sidecar, ...ports] = await Promise.all([
    proxyReady(pod.sidecar.adminPort, 1000, pod.sidecar.adminIp),
    ...pod.ports.map((p) =>
      pod.netns ? Promise.resolve(!!podPid && listensIn(podPid, p)) : tcpReady(pod.appIp, p),
    ),
  ]);
  return { sidecar: sidecar, app: ports.every(Boolean) };
}

/** Calls `check` every `intervalMs` until it returns true (→ true) or `timeoutMs` passes (→ false). */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
