// The ingress gateway's published ports and the URLs worth trying, from the Gateways and VirtualServices.
import type { Resource } from '../api/resource.js';
import { GATEWAY_LABELS } from './proxy-identity.js';
import type { GatewayPort } from './run-state.js';

/** Gateway ports below this are published at port + offset (binding them would need root). */
export const PRIVILEGED_PORT_LIMIT = 1024;

/** Where a gateway port is published on 127.0.0.1. */
export function publishedPort(port: number, offset: number): number {
  return port < PRIVILEGED_PORT_LIMIT ? port + offset : port;
}

function selectsGateway(gw: Resource): boolean {
  const sel = (gw['spec'] as { selector?: Record<string, string> } | undefined)?.selector ?? {};
  return Object.entries(sel).every(([k, v]) => GATEWAY_LABELS[k] === v);
}

interface Server {
  port?: { number?: number; name?: string; protocol?: string };
  hosts?: string[];
}

/** Every port of every Gateway served by the ingress gateway, de-duplicated, sorted by port. */
export function gatewayPorts(resources: readonly Resource[], offset: number): GatewayPort[] {
  const byPort = new Map<number, GatewayPort>();
  for (const gw of resources) {
    if (gw.kind !== 'Gateway' || !selectsGateway(gw)) continue;
    for (const s of (gw['spec'] as { servers?: Server[] })?.servers ?? []) {
      const n = s.port?.number;
      if (typeof n !== 'number' || byPort.has(n)) continue;
      byPort.set(n, {
        port: n,
        published: publishedPort(n, offset),
        protocol: (s.port?.protocol ?? 'HTTP').toUpperCase(),
        name: s.port?.name ?? '',
      });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

interface HttpRoute {
  match?: { uri?: { exact?: string; prefix?: string } }[];
}

/** A few URLs (as curl command lines) that reach something through the gateway. */
export function gatewayUrls(resources: readonly Resource[], offset: number): string[] {
  const out: string[] = [];
  for (const gw of resources) {
    if (gw.kind !== 'Gateway' || !selectsGateway(gw)) continue;
    const gwNs = gw.metadata.namespace ?? 'default';
    const refs = new Set([gw.metadata.name, `${gwNs}/${gw.metadata.name}`]);
    const services = resources.filter(
      (r) =>
        r.kind === 'VirtualService' &&
        ((r['spec'] as { gateways?: string[] })?.gateways ?? []).some((g) =>
          refs.has(g.includes('/') ? g : `${r.metadata.namespace ?? 'default'}/${g}`),
        ),
    );
    for (const s of (gw['spec'] as { servers?: Server[] })?.servers ?? []) {
      const n = s.port?.number;
      if (typeof n !== 'number') continue;
      const port = publishedPort(n, offset);
      const proto = (s.port?.protocol ?? 'HTTP').toUpperCase();
      if (proto === 'TCP' || proto === 'TLS' || proto === 'MONGO') {
        out.push(`tcp://localhost:${port}   (${gw.metadata.name}, ${proto})`);
        continue;
      }
      const scheme = proto === 'HTTPS' ? 'https' : 'http';
      const host = (s.hosts ?? ['*'])
        .map((h) => h.replace(/^[^/]*\//, ''))
        .find((h) => h !== '*' && !h.startsWith('*.'));
      const paths = services.flatMap((vs) => examplePaths(vs)).slice(0, 3);
      for (const p of paths.length ? paths : ['/']) {
        const url = `${scheme}://localhost:${port}${p}`;
        out.push(host ? `curl -H 'Host: ${host}' ${url}` : url);
      }
    }
  }
  return [...new Set(out)];
}

function examplePaths(vs: Resource): string[] {
  const http = (vs['spec'] as { http?: HttpRoute[] })?.http ?? [];
  const out: string[] = [];
  for (const r of http) {
    for (const m of r.match ?? []) {
      const u = m.uri?.exact ?? m.uri?.prefix;
      if (u && u.startsWith('/')) out.push(u);
    }
  }
  return out.slice(0, 1);
}
