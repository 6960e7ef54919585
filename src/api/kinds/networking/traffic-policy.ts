// Schemas of DestinationRule traffic policies: load balancing, connection pools, outlier detection, client TLS.
import {
  obj,
  str,
  nonEmpty,
  int,
  int32,
  uint32,
  num,
  bool,
  enumOf,
  list,
  exactlyOne,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { checkPort } from '../../checks.js';
import { msDuration } from './common.js';
import { checkFqdnOrIp } from './hosts.js';
import { portSelector } from './destination.js';
import { localityLb } from './locality-lb-setting.js';
import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  ConsistentHashLB,
  HTTPCookie,
  HTTPSettings,
  LoadBalancerSettings,
  OutlierDetection,
  PortTrafficPolicy,
  ProxyProtocol,
  RetryBudget,
  TCPSettings,
  TrafficPolicy,
  TunnelSettings,
  WarmupConfiguration,
} from './destination-rule.js';

const nonNegative = (): Validator<number> => int(0, 2147483647);

const tcpSettings = (): Validator<TCPSettings> =>
  obj<TCPSettings>({
    maxConnections: nonNegative(),
    connectTimeout: msDuration(),
    tcpKeepalive: obj<{ probes?: number; time?: number; interval?: number }>(
      { probes: uint32(), time: msDuration(), interval: msDuration() },
      {
        rules: (k, at, c) => {
          // Node sets only the idle time before the first probe (TCP_KEEPIDLE); the kernel's (or
          // libuv's) probe count and interval apply.
          for (const f of ['probes', 'interval'] as const)
            if (k[f] !== undefined)
              c.warn(
                child(at, k, f),
                `tcpKeepalive.${f} is not enforced: Mizzen's proxy sets only tcpKeepalive.time; the operating system's probe ${f === 'probes' ? 'count' : 'interval'} applies`,
              );
        },
      },
    ),
    maxConnectionDuration: msDuration(),
    // Istio: `0s` turns the TCP idle timeout off (the HTTP one must be at least 1ms).
    idleTimeout: msDuration(0),
  });

const httpSettings = (): Validator<HTTPSettings> =>
  obj<HTTPSettings>(
    {
      http1MaxPendingRequests: nonNegative(),
      http2MaxRequests: nonNegative(),
      maxRequestsPerConnection: nonNegative(),
      maxRetries: nonNegative(),
      idleTimeout: msDuration(),
      h2UpgradePolicy: enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const),
      useClientProtocol: bool(),
      maxConcurrentStreams: nonNegative(),
    },
    {
      rules: (h, at, c) => {
        if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol)
          c.error(
            child(at, h, 'useClientProtocol'),
            'useClientProtocol must not be true when h2UpgradePolicy is UPGRADE',
          );
      },
    },
  );

/** Connection pool settings: at least one of tcp, http. */
export const connectionPool = (): Validator<ConnectionPoolSettings> =>
  obj<ConnectionPoolSettings>(
    { tcp: tcpSettings(), http: httpSettings() },
    {
      rules: (p, at, c) => {
        if (!p.tcp && !p.http) c.error(at, 'connection pool must have at least one of tcp, http');
      },
    },
  );

/** Outlier detection. */
export const outlierDetection = (): Validator<OutlierDetection> =>
  obj<OutlierDetection>(
    {
      consecutiveErrors: {
        v: int32(),
        deprecated: 'use consecutiveGatewayErrors or consecutive5xxErrors',
      },
      splitExternalLocalOriginErrors: bool(),
      consecutiveLocalOriginFailures: uint32(),
      consecutiveGatewayErrors: uint32(),
      consecutive5xxErrors: uint32(),
      interval: msDuration(),
      baseEjectionTime: msDuration(),
      maxEjectionPercent: int(0, 100),
      minHealthPercent: int(0, 100),
    },
    {
      rules: (o, at, c) => {
        if (!o.splitExternalLocalOriginErrors && (o.consecutiveLocalOriginFailures ?? 0) > 0)
          c.error(
            child(at, o, 'consecutiveLocalOriginFailures'),
            'consecutiveLocalOriginFailures needs splitExternalLocalOriginErrors: true',
          );
      },
    },
  );

// Envoy's maglev table size limit.
const MAGLEV_MAX = 5000011;

/** Envoy's primality test for maglev table sizes. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f * f <= x; f += 2) if (x % f === 0) return false;
  return true;
}

/** Cookie attribute names must be unique (Istio); Mizzen's proxy does not add attributes to the cookie. */
function cookieAttributeRules(h: HTTPCookie, at: At, c: Checker): void {
  const attrs = h.attributes;
  if (!attrs?.length) return;
  const listAt = child(at, h, 'attributes');
  const seen = new Set<string>();
  attrs.forEach((a, i) => {
    if (a.name && seen.has(a.name))
      c.error(child(child(listAt, attrs, i), a, 'name'), `duplicate cookie attribute name: ${a.name}`);
    seen.add(a.name);
  });
  c.warn(
    listAt,
    'httpCookie.attributes is not enforced by Mizzen: the cookie it sets carries only name, path and ttl',
    'MZ-NOT-ENFORCED',
  );
}

const httpCookie = (): Validator<HTTPCookie> =>
  obj<HTTPCookie>(
    {
      name: { v: nonEmpty(), required: true },
      path: str(),
      ttl: msDuration(0),
      attributes: list(obj({ name: { v: nonEmpty(), required: true }, value: str() })),
    },
    { rules: cookieAttributeRules },
  );

const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'];

const consistentHash = (): Validator<ConsistentHashLB> =>
  obj<ConsistentHashLB>(
    {
      httpHeaderName: nonEmpty(),
      httpCookie: httpCookie(),
      useSourceIp: bool(),
      httpQueryParameterName: nonEmpty(),
      ringHash: obj({ minimumRingSize: int(0) }),
      maglev: obj({ tableSize: int(0) }),
      minimumRingSize: { v: int(0), deprecated: 'use ringHash: {minimumRingSize: N}' },
    },
    {
      rules: (h, at, c) => {
        exactlyOne(h as Record<string, unknown>, HASH_KEYS, at, c);
        exactlyOne(h as Record<string, unknown>, ['ringHash', 'maglev', 'minimumRingSize'], at, c, true);
        if (h.useSourceIp === false)
          c.warn(child(at, h, 'useSourceIp'), 'useSourceIp: false selects no hash key');
        const t = h.maglev?.tableSize;
        if (h.maglev) {
          const a = child(child(at, h, 'maglev'), h.maglev, 'tableSize');
          if (!t) c.error(a, 'tableSize must be set for maglev (a prime number, e.g. 65537)');
          else if (t >= MAGLEV_MAX) c.error(a, `tableSize must be less than ${MAGLEV_MAX} for maglev`);
          else if (!isPrime(t)) c.error(a, `tableSize must be a prime number for maglev, got ${t}`);
        }
      },
    },
  );

const warmup = (): Validator<WarmupConfiguration> =>
  obj<WarmupConfiguration>({
    duration: { v: msDuration(), required: true },
    minimumPercent: num(0, 100),
    // Envoy's slow start takes any aggression above 0 (below 1 ramps up faster than linear).
    aggression: (v, at, c) => {
      const n = num(0)(v, at, c);
      if (n === 0) c.error(at, 'aggression must be greater than 0');
      return n;
    },
  });

const SIMPLE_LB = [
  'UNSPECIFIED',
  'RANDOM',
  'PASSTHROUGH',
  'ROUND_ROBIN',
  'LEAST_REQUEST',
  'LEAST_CONN',
] as const;

/** Load balancer settings; outlier detection is needed for failover to take effect. */
export const loadBalancer = (): Validator<LoadBalancerSettings> =>
  obj<LoadBalancerSettings>(
    {
      simple: enumOf(SIMPLE_LB, { LEAST_CONN: 'use LEAST_REQUEST' }),
      consistentHash: consistentHash(),
      localityLbSetting: localityLb(),
      warmupDurationSecs: msDuration(),
      warmup: warmup(),
    },
    {
      rules: (lb, at, c) => {
        exactlyOne(lb as Record<string, unknown>, ['simple', 'consistentHash'], at, c, true);
        exactlyOne(lb as Record<string, unknown>, ['warmupDurationSecs', 'warmup'], at, c, true);
      },
    },
  );

/** Istio's `configmap://` credentials (a CA bundle from a ConfigMap) are not read by Mizzen: refuse them. */
function checkCredentialName(v: string, at: At, c: Checker): void {
  if (v.startsWith('configmap://'))
    c.error(
      at,
      'configmap:// credentials are not supported by Mizzen; put the CA bundle in a Secret and set credentialName to the name of the Secret',
    );
}

/** Client TLS: certificates each mode needs, and what credentialName / insecureSkipVerify exclude. */
export const clientTls = (): Validator<ClientTLSSettings> =>
  obj<ClientTLSSettings>(
    {
      mode: enumOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const),
      clientCertificate: str(),
      privateKey: str(),
      caCertificates: str(),
      credentialName: str(checkCredentialName),
      subjectAltNames: list(str()),
      sni: str(),
      insecureSkipVerify: bool(),
      caCrl: str(),
    },
    {
      rules: (t, at, c) => {
        const mode = t.mode ?? 'DISABLE';
        if (t.insecureSkipVerify) {
          if (mode === 'SIMPLE' && (t.caCertificates || t.credentialName || t.subjectAltNames))
            c.error(
              at,
              'cannot set caCertificates, credentialName or subjectAltNames when insecureSkipVerify is true',
            );
          if (mode === 'MUTUAL' && (t.caCertificates || t.subjectAltNames))
            c.error(at, 'cannot set caCertificates or subjectAltNames when insecureSkipVerify is true');
        }
        if ((mode === 'SIMPLE' || mode === 'MUTUAL') && t.credentialName) {
          if (t.clientCertificate || t.caCertificates || t.privateKey || t.caCrl)
            c.error(
              at,
              'cannot set clientCertificate, privateKey, caCertificates or caCrl when credentialName is set',
            );
          return;
        }
        if (mode === 'MUTUAL') {
          if (!t.clientCertificate)
            c.error(
              child(at, t, 'clientCertificate'),
              'MUTUAL TLS requires clientCertificate (or credentialName)',
            );
          if (!t.privateKey)
            c.error(child(at, t, 'privateKey'), 'MUTUAL TLS requires privateKey (or credentialName)');
        }
        if (t.mode === undefined) c.warn(at, 'tls without mode means DISABLE; set mode');
      },
    },
  );

const tunnel = (): Validator<TunnelSettings> =>
  obj<TunnelSettings>({
    protocol: str((p, at, c) => {
      if (p !== '' && p !== 'CONNECT' && p !== 'POST')
        c.error(at, `tunnel protocol must be "CONNECT" or "POST", got ${JSON.stringify(p)}`);
    }),
    targetHost: { v: nonEmpty(checkFqdnOrIp), required: true },
    targetPort: { v: uint32(), required: true },
  });

const retryBudget = (): Validator<RetryBudget> =>
  obj<RetryBudget>({ percent: num(0, 100), minRetryConcurrency: uint32() });

/** The per-port policy fields (everything a PortTrafficPolicy has besides its port). */
const policyFields = () => ({
  loadBalancer: loadBalancer(),
  connectionPool: connectionPool(),
  outlierDetection: outlierDetection(),
  tls: clientTls(),
});

/** Failover without outlier detection never triggers. */
function warnFailover(
  p: { loadBalancer?: LoadBalancerSettings; outlierDetection?: OutlierDetection },
  at: At,
  c: Checker,
): void {
  const l = p.loadBalancer?.localityLbSetting;
  if ((l?.failover?.length || l?.failoverPriority?.length) && !p.outlierDetection)
    c.warn(child(at, p, 'loadBalancer'), 'locality failover needs outlierDetection to take effect');
}

const portTrafficPolicy = (): Validator<PortTrafficPolicy> =>
  obj<PortTrafficPolicy>(
    { port: portSelector(), ...policyFields() },
    {
      rules: (p, at, c) => {
        if (!p.port?.number)
          c.error(child(at, p, 'port'), 'is required: the port number this policy applies to');
        if (!p.loadBalancer && !p.connectionPool && !p.outlierDetection && !p.tls)
          c.error(
            at,
            'port traffic policy must have at least one of loadBalancer, connectionPool, outlierDetection, tls',
          );
        warnFailover(p, at, c);
      },
    },
  );

/** A traffic policy: at least one field, tunnel and proxyProtocol exclusive, port-level ports unique. */
export const trafficPolicy = (): Validator<TrafficPolicy> =>
  obj<TrafficPolicy>(
    {
      ...policyFields(),
      portLevelSettings: list(portTrafficPolicy()),
      tunnel: tunnel(),
      proxyProtocol: obj<ProxyProtocol>({ version: enumOf(['V1', 'V2'] as const) }),
      retryBudget: retryBudget(),
    },
    {
      rules: (p, at, c) => {
        if (Object.keys(p).length === 0) c.error(at, 'traffic policy must have at least one field');
        if (p.tunnel && p.proxyProtocol)
          c.error(child(at, p, 'proxyProtocol'), 'tunnel and proxyProtocol must not be set together');
        if (p.tunnel)
          checkPort(p.tunnel.targetPort, child(child(at, p, 'tunnel'), p.tunnel, 'targetPort'), c);
        const seen = new Set<number>();
        p.portLevelSettings?.forEach((pl, i) => {
          const n = pl.port?.number;
          if (n === undefined) return;
          if (seen.has(n))
            c.error(
              child(child(at, p, 'portLevelSettings'), p.portLevelSettings!, i),
              `duplicate port ${n} in portLevelSettings`,
            );
          seen.add(n);
        });
        warnFailover(p, at, c);
      },
    },
  );
