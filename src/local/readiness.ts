// Readiness probes for local pods: the proxy's admin /ready and a TCP connect to the app's port.
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
export async function proxyReady(adminPort: number, timeoutMs = 1000): Promise<boolean> {
  return (await httpGet(`http://127.0.0.1:${adminPort}/ready`, timeoutMs)).status === 200;
}

/** Readiness of one pod's two halves. */
export interface PodReadiness {
  readonly sidecar: boolean;
  /** Every declared port of the app accepts connections (a pod without ports: true). */
  readonly app: boolean;
}

/** Probes one pod. */
export async function podReadiness(pod: PodRecord): Promise<PodReadiness> {
  const [sidecar, ...ports] = await Promise.all([
    proxyReady(pod.sidecar.adminPort),
    ...pod.ports.map((p) => tcpReady(pod.appIp, p)),
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
