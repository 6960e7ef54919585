// service.PortNameAnalyzer: Service ports named after Istio's protocol convention (or with appProtocol).
import type { KubeService } from '../../api/kinds/kubernetes/service.js';
import { field, type Analyzer } from '../analyzer.js';
import { MESSAGES } from '../messages.js';

/** Protocol names Istio recognises in a port name prefix or appProtocol (lower-case). */
const PROTOCOLS = new Set([
  'http',
  'http2',
  'https',
  'grpc',
  'grpc-web',
  'tcp',
  'tls',
  'udp',
  'mongo',
  'mysql',
  'redis',
  'http_proxy',
]);

/** Kubernetes appProtocol values Istio maps to a protocol. */
const KUBE_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'istio-system']);

/** The protocol a port name or appProtocol selects, if Istio recognises it. */
export function portProtocol(name: string | undefined, appProtocol?: string): string | undefined {
  if (appProtocol) {
    const a = appProtocol.toLowerCase();
    if (PROTOCOLS.has(a) || KUBE_APP_PROTOCOLS.has(a)) return a;
  }
  if (!name) return undefined;
  const n = name.toLowerCase();
  if (PROTOCOLS.has(n)) return n;
  if (n.startsWith('grpc-web-')) return 'grpc-web';
  const prefix = n.slice(0, n.indexOf('-'));
  return n.includes('-') && PROTOCOLS.has(prefix) ? prefix : undefined;
}

/**
 * A port whose name is not `<protocol>[-<suffix>]` and that has no appProtocol gets protocol sniffing
 * instead of a declared protocol (IST0118, info). UDP and SCTP ports are not proxied and are skipped.
 */
export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks that Service port names follow the Istio protocol naming convention',
  analyze(ctx) {
    for (const r of ctx.index.ofKind('Service') as KubeService[]) {
      if (SYSTEM_NAMESPACES.has(r.metadata.namespace ?? 'default')) continue;
      const ports = r.spec?.ports ?? [];
      ports.forEach((p, i) => {
        if (p.protocol === 'UDP' || p.protocol === 'SCTP') return;
        if (portProtocol(p.name, p.appProtocol)) return;
        const tp = p.targetPort ?? p.port;
        ctx.report(
          MESSAGES.PortNameIsNotUnderNamingConvention,
          r,
          p.name !== undefined
            ? field(p, 'name', `spec.ports[${i}].name`)
            : field(ports, i, `spec.ports[${i}]`),
          `Port name ${p.name ?? ''} (port: ${p.port}, targetPort: ${tp}) doesn't follow the naming convention of Istio port; name it "<protocol>[-<suffix>]" (http-, http2-, grpc-, tcp-, tls-, ...) or set appProtocol.`,
        );
      });
    }
  },
};
