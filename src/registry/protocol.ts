// Protocol selection for service ports as Istio does it: appProtocol first, then the port name prefix.
import type { Protocol } from './model.js';

const BY_NAME: Record<string, Protocol> = {
  http: 'HTTP',
  http2: 'HTTP2',
  https: 'HTTPS',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-WEB',
  tcp: 'TCP',
  tls: 'TLS',
  mongo: 'MONGO',
  mysql: 'MYSQL',
  redis: 'REDIS',
  udp: 'UDP',
  h2c: 'HTTP2',
};

/** A protocol name (`http`, `HTTP2`, `grpc-web`, `kubernetes.io/h2c`) or UNSUPPORTED. */
export function parseProtocol(s: string | undefined): Protocol {
  if (!s) return 'UNSUPPORTED';
  const lower = s.toLowerCase();
  if (lower === 'kubernetes.io/h2c') return 'HTTP2';
  if (lower === 'kubernetes.io/ws' || lower === 'kubernetes.io/wss') return 'HTTP';
  return BY_NAME[lower] ?? 'UNSUPPORTED';
}

/**
 * The protocol of a Kubernetes Service port: `appProtocol` if it names one, else the port name's
 * prefix before the first `-` (`http-web` → HTTP, `grpc` → GRPC, `grpc-web-x` → GRPC-WEB), else
 * UNSUPPORTED (sniffed), and UDP for UDP ports.
 */
export function servicePortProtocol(name: string | undefined, appProtocol?: string, l4?: string): Protocol {
  if (l4 === 'UDP') return 'UDP';
  const fromApp = parseProtocol(appProtocol);
  if (fromApp !== 'UNSUPPORTED') return fromApp;
  if (!name) return 'UNSUPPORTED';
  const lower = name.toLowerCase();
  if (lower === 'grpc-web' || lower.startsWith('grpc-web-')) return 'GRPC-WEB';
  const dash = lower.indexOf('-');
  return parseProtocol(dash < 0 ? lower : lower.slice(0, dash));
}

/** True for protocols routed by an HTTP connection manager. */
export function isHttp(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB';
}

/** True for protocols that need HTTP/2 upstream. */
export function isHttp2(p: Protocol): boolean {
  return p === 'HTTP2' || p === 'GRPC';
}
