// Sidecar (networking.istio.io): narrows what a workload's proxy listens on and which services it can reach.
import { isIP } from 'node:net';
import {
  obj,
  str,
  nonEmpty,
  uint32,
  int,
  enumOf,
  list,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkPort } from '../../checks.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import {
  checkPortName,
  checkProtocol,
  checkSelectorLabels,
  isHttpProtocol,
  unixPathError,
} from './common.js';
import { checkNamespacedHostname, fqdnError } from './hosts.js';
import { destination } from './destination.js';
import { serverTls, type ServerTLSSettings } from './gateway.js';
import { connectionPool } from './traffic-policy.js';
import { workloadSelector, type WorkloadSelector } from './workload-selector.js';
import type { Destination } from './virtual-service.js';
import type { ConnectionPoolSettings } from './destination-rule.js';

/** Sidecar.spec. */
export interface SidecarSpec {
  /** Workloads this applies to; absent = every workload in the namespace (one such Sidecar per namespace). */
  workloadSelector?: WorkloadSelector;
  /** Inbound listeners (ports of the workload itself). */
  ingress?: IstioIngressListener[];
  /** Outbound listeners: which services (hosts) the workload may reach. */
  egress?: IstioEgressListener[];
  /** Connection pool applied to every inbound listener unless a listener sets its own. */
  inboundConnectionPool?: ConnectionPoolSettings;
  /** What to do with traffic to unknown destinations. */
  outboundTrafficPolicy?: OutboundTrafficPolicy;
}

/** A Sidecar resource. */
export type Sidecar = SpecResource<'Sidecar', SidecarSpec>;

/** A port on a Sidecar listener. */
export interface SidecarPort {
  /** Port number (1–65535). */
  number?: number;
  /** Protocol: HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS, ... */
  protocol?: string;
  /** Port name. */
  name?: string;
  /** Deprecated: unused. */
  targetPort?: number;
}

/** Capture modes. */
export type CaptureMode = 'DEFAULT' | 'IPTABLES' | 'NONE';

/** An inbound listener. */
export interface IstioIngressListener {
  /** Port the listener accepts traffic on (required). */
  port: SidecarPort;
  /** Address the listener binds to; default the instance IP. */
  bind?: string;
  /** How traffic reaches the listener; default DEFAULT. */
  captureMode?: CaptureMode;
  /** Where to forward: `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT` or `unix://path`. */
  defaultEndpoint?: string;
  /** TLS terminated by the listener (SIMPLE or MUTUAL with files). */
  tls?: ServerTLSSettings;
  /** Connection pool for this listener's connections to the app. */
  connectionPool?: ConnectionPoolSettings;
}

/** An outbound listener. */
export interface IstioEgressListener {
  /** Port of the listener; absent = the catch-all listener. */
  port?: SidecarPort;
  /** Address the listener binds to. */
  bind?: string;
  /** How traffic reaches the listener; default DEFAULT. */
  captureMode?: CaptureMode;
  /** Reachable services as `namespace/dnsName` (e.g. `./*`, `istio-system/*`; namespace `*` = any) (required). */
  hosts: string[];
}

/** Handling of traffic to destinations not in the registry. */
export interface OutboundTrafficPolicy {
  /** REGISTRY_ONLY blocks unknown destinations; ALLOW_ANY passes them through. Unset here = REGISTRY_ONLY (proto default); no policy at all = the mesh's (ALLOW_ANY). */
  mode?: 'REGISTRY_ONLY' | 'ALLOW_ANY';
  /** Send unknown traffic to this destination instead of passing it through (ALLOW_ANY only). */
  egressProxy?: Destination;
}

export type { WorkloadSelector };

// ---------- schema ----------

const sidecarPort = (): Validator<SidecarPort> =>
  obj<SidecarPort>({
    number: uint32(),
    protocol: str(checkProtocol),
    name: str(checkPortName),
    targetPort: int(0, 4294967295, (n, at, c) => {
      if (n) c.error(at, 'targetPort has no effect on Sidecars; remove it');
    }),
  });

const CAPTURE_MODES = ['DEFAULT', 'IPTABLES', 'NONE'] as const;

function checkBindIp(bind: string | undefined, at: At, c: Checker): void {
  if (bind && !isIP(bind)) c.error(at, `bind must be an IP address, got ${JSON.stringify(bind)}`);
}

/** defaultEndpoint: 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT, :PORT or unix://path. */
function checkDefaultEndpoint(e: string, at: At, c: Checker): void {
  if (e.startsWith('unix://')) {
    const err = unixPathError(e.slice('unix://'.length));
    if (err) c.error(at, err);
    return;
  }
  const m = /^(?:\[([^\]]*)\]|([^:]*)):([^:]*)$/.exec(e);
  const host = m ? (m[1] ?? m[2]) : undefined;
  if (!m || !['', '127.0.0.1', '0.0.0.0', '::1', '::'].includes(host!)) {
    c.error(
      at,
      `defaultEndpoint must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://<path>, got ${JSON.stringify(e)}`,
    );
    return;
  }
  const port = /^[0-9]+$/.test(m[3]) ? Number(m[3]) : NaN;
  if (Number.isNaN(port)) c.error(at, `defaultEndpoint port ${JSON.stringify(m[3])} is not a number`);
  else checkPort(port, at, c);
}

/**
 * Sidecar ingress TLS: files only (no credentialName(s), no tlsCertificates), no ISTIO_MUTUAL /
 * AUTO_PASSTHROUGH, no SANs or redirect, and only on a port whose protocol is HTTPS or TLS (as Istio).
 */
function ingressTlsRules(t: ServerTLSSettings, protocol: string | undefined, at: At, c: Checker): void {
  const p = (protocol ?? '').toUpperCase();
  if (p !== 'HTTPS' && p !== 'TLS')
    c.error(
      at,
      `TLS settings need an HTTPS or TLS port; this port's protocol is ${protocol ? JSON.stringify(protocol) : 'not set'}`,
    );
  if (t.credentialNames?.length)
    c.error(
      child(at, t, 'credentialNames'),
      'credentialNames is not supported in Sidecar ingress tls; use file paths',
    );
  if (t.tlsCertificates?.length)
    c.error(
      child(at, t, 'tlsCertificates'),
      'tlsCertificates is not supported in Sidecar ingress tls; use file paths',
    );
  if (t.subjectAltNames?.length)
    c.error(child(at, t, 'subjectAltNames'), 'subjectAltNames is not supported in Sidecar ingress tls');
  if (t.httpsRedirect)
    c.error(child(at, t, 'httpsRedirect'), 'httpsRedirect is not supported in Sidecar ingress tls');
  if (t.credentialName)
    c.error(
      child(at, t, 'credentialName'),
      'credentialName is not supported in Sidecar ingress tls; use file paths',
    );
  if (t.mode === 'ISTIO_MUTUAL' || t.mode === 'AUTO_PASSTHROUGH')
    c.error(child(at, t, 'mode'), `mode ${t.mode} cannot be used in Sidecar ingress tls`);
}

const ingressListener = (): Validator<IstioIngressListener> =>
  obj<IstioIngressListener>(
    {
      port: { v: sidecarPort(), required: true },
      bind: str(),
      captureMode: enumOf(CAPTURE_MODES),
      defaultEndpoint: str(checkDefaultEndpoint),
      tls: serverTls(),
      connectionPool: connectionPool(),
    },
    {
      rules: (l, at, c) => {
        const portAt = child(at, l, 'port');
        if (l.port.number === undefined) c.error(child(portAt, l.port, 'number'), 'is required');
        else checkPort(l.port.number, child(portAt, l.port, 'number'), c);
        checkBindIp(l.bind, child(at, l, 'bind'), c);
        if (l.tls) ingressTlsRules(l.tls, l.port.protocol, child(at, l, 'tls'), c);
        if (l.connectionPool?.http && !isHttpProtocol(l.port.protocol ?? ''))
          c.warn(
            child(child(at, l, 'connectionPool'), l.connectionPool, 'http'),
            `HTTP connection pool settings have no effect on port ${l.port.number ?? ''} whose protocol is not HTTP; only tcp settings apply`,
          );
      },
    },
  );

const egressListener = (): Validator<IstioEgressListener> =>
  obj<IstioEgressListener>(
    {
      port: sidecarPort(),
      bind: str(),
      captureMode: enumOf(CAPTURE_MODES),
      hosts: { v: list(nonEmpty(), { min: 1 }), required: true },
    },
    {
      rules: (l, at, c) => {
        l.hosts.forEach((h, i) =>
          checkNamespacedHostname(h, child(child(at, l, 'hosts'), l.hosts, i), c, false),
        );
        if (!l.port) return;
        const bindAt = child(at, l, 'bind');
        if (!l.port.number) {
          if (!l.bind?.startsWith('unix://'))
            c.error(bindAt, 'a listener with port 0 needs a unix:// bind address');
          else {
            const e = unixPathError(l.bind.slice('unix://'.length));
            if (e) c.error(bindAt, e);
          }
          if (l.captureMode && l.captureMode !== 'DEFAULT' && l.captureMode !== 'NONE')
            c.error(
              child(at, l, 'captureMode'),
              'captureMode must be DEFAULT or NONE for unix domain socket listeners',
            );
        } else {
          checkPort(l.port.number, child(child(at, l, 'port'), l.port, 'number'), c);
          checkBindIp(l.bind, bindAt, c);
        }
      },
    },
  );

const outboundTrafficPolicy = (): Validator<OutboundTrafficPolicy> =>
  obj<OutboundTrafficPolicy>(
    { mode: enumOf(['REGISTRY_ONLY', 'ALLOW_ANY'] as const), egressProxy: destination() },
    {
      rules: (p, at, c) => {
        if (!p.egressProxy) return;
        const a = child(at, p, 'egressProxy');
        if (p.mode !== 'ALLOW_ANY') c.error(a, 'egressProxy can only be set with mode ALLOW_ANY');
        if (fqdnError(p.egressProxy.host))
          c.error(child(a, p.egressProxy, 'host'), 'egressProxy host must be a DNS name without wildcard');
        if (!p.egressProxy.port) c.error(child(a, p.egressProxy, 'port'), 'is required for egressProxy');
        c.warn(
          a,
          'egressProxy is not enforced by Mizzen: traffic to unknown destinations goes out directly (ALLOW_ANY), not through this proxy',
          'MZ-NOT-ENFORCED',
        );
      },
    },
  );

/** Listener ports unique; the catch-all egress listener (no port) last and alone; duplicate hosts warn. */
function listenerRules(s: SidecarSpec, at: At, c: Checker): void {
  const seen = new Set<number>();
  s.ingress?.forEach((l, i) => {
    const n = l.port.number ?? 0;
    if (seen.has(n))
      c.error(
        child(child(child(at, s, 'ingress'), s.ingress!, i), l, 'port'),
        `ingress port ${n} is used twice`,
      );
    seen.add(n);
  });
  const eSeen = new Set<number>();
  const uds = new Set<string>();
  let catchAll = false;
  s.egress?.forEach((l, i) => {
    const a = child(child(at, s, 'egress'), s.egress!, i);
    if (!l.port) {
      if (catchAll) c.error(a, 'egress can have only one listener without port');
      else if (i !== s.egress!.length - 1)
        c.error(a, 'the egress listener without port must be the last one');
      catchAll = true;
    } else if (!l.port.number) {
      if (uds.has(l.bind ?? '')) c.error(child(a, l, 'bind'), 'unix domain socket binds must be unique');
      uds.add(l.bind ?? '');
    } else {
      if (eSeen.has(l.port.number))
        c.error(child(a, l, 'port'), `egress port ${l.port.number} is used twice`);
      eSeen.add(l.port.number);
    }
    duplicateEgressHosts(l, a, c);
  });
}

function duplicateEgressHosts(l: IstioEgressListener, at: At, c: Checker): void {
  const byNs = new Map<string, Set<string>>();
  l.hosts.forEach((h, i) => {
    const slash = h.indexOf('/');
    if (slash < 0) return;
    const ns = h.slice(0, slash);
    const host = h.slice(slash + 1);
    const set = byNs.get(ns) ?? new Set<string>();
    if (set.has(host) || set.has('*') || (host === '*' && set.size > 0))
      c.warn(child(child(at, l, 'hosts'), l.hosts, i), `duplicated egress host ${JSON.stringify(h)}`);
    set.add(host);
    byNs.set(ns, set);
  });
  if (byNs.get('*')?.has('*') && byNs.size > 1)
    c.warn(child(at, l, 'hosts'), '"*/*" selects every host; the other hosts add nothing');
}

/** Schema of Sidecar.spec. */
export const sidecarSpec = (): Validator<SidecarSpec> =>
  obj<SidecarSpec>(
    {
      workloadSelector: workloadSelector(),
      ingress: list(ingressListener()),
      egress: list(egressListener()),
      inboundConnectionPool: connectionPool(),
      outboundTrafficPolicy: outboundTrafficPolicy(),
    },
    {
      rules: (s, at, c) => {
        if (s.workloadSelector)
          checkSelectorLabels(s.workloadSelector.labels, child(at, s, 'workloadSelector'), 'labels', c);
        if (!s.ingress?.length && !s.egress?.length && !s.outboundTrafficPolicy && !s.inboundConnectionPool)
          c.error(
            at,
            'empty Sidecar: give at least one of ingress, egress, outboundTrafficPolicy, inboundConnectionPool',
          );
        listenerRules(s, at, c);
      },
    },
  );

/** The Sidecar kind. */
export const sidecarKind = istioKind('Sidecar', ISTIO_VERSIONS.networking, sidecarSpec());
