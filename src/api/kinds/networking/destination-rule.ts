// DestinationRule (networking.istio.io): policies for traffic to a service after routing (LB, pools, outliers, TLS).
import { obj, str, nonEmpty, list, child, type Validator } from '../../schema.js';
import { labels } from '../../metadata.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { checkExportTo, checkSelectorLabels, namespaceOf } from './common.js';
import { checkWildcardDomain } from './hosts.js';
import { checkSubsetName } from './destination.js';
import { trafficPolicy } from './traffic-policy.js';
import { matchLabelsSelector } from './workload-selector.js';
import type { PortSelector } from './virtual-service.js';
import type { MatchLabelsSelector } from './workload-selector.js';

/** DestinationRule.spec. */
export interface DestinationRuleSpec {
  /** Service the rule applies to: short name (resolved in the rule's namespace), FQDN or wildcard. */
  host: string;
  /** Policies for every port and subset unless overridden. */
  trafficPolicy?: TrafficPolicy;
  /** Named subsets (versions) of the service, each with optional overriding policies. */
  subsets?: Subset[];
  /** Namespaces this rule is visible to: `.`, `*` or namespace names; absent = all. */
  exportTo?: string[];
  /** Client workloads this rule applies to (only valid in the rule's own namespace). */
  workloadSelector?: MatchLabelsSelector;
}

/** A DestinationRule resource. */
export type DestinationRule = SpecResource<'DestinationRule', DestinationRuleSpec>;

/** Traffic policies for a destination (or one of its ports or subsets). */
export interface TrafficPolicy {
  /** Load-balancing algorithm. */
  loadBalancer?: LoadBalancerSettings;
  /** Connection pool / circuit-breaker limits. */
  connectionPool?: ConnectionPoolSettings;
  /** Ejection of misbehaving hosts. */
  outlierDetection?: OutlierDetection;
  /** TLS used to connect to the upstream. */
  tls?: ClientTLSSettings;
  /** Per-port overrides; a port's setting replaces (does not merge with) the level above. */
  portLevelSettings?: PortTrafficPolicy[];
  /** Tunnel the traffic through an HTTP CONNECT proxy (egress gateways). */
  tunnel?: TunnelSettings;
  /** Send a PROXY protocol header to the upstream. */
  proxyProtocol?: ProxyProtocol;
  /** Limit on concurrent retries as a share of active requests. */
  retryBudget?: RetryBudget;
}

/** Policies for one port of the destination. */
export interface PortTrafficPolicy {
  /** The port (required). */
  port?: PortSelector;
  /** Load-balancing algorithm. */
  loadBalancer?: LoadBalancerSettings;
  /** Connection pool limits. */
  connectionPool?: ConnectionPoolSettings;
  /** Ejection of misbehaving hosts. */
  outlierDetection?: OutlierDetection;
  /** TLS used to connect to the upstream. */
  tls?: ClientTLSSettings;
}

/** HTTP CONNECT tunnelling. */
export interface TunnelSettings {
  /** Tunnel protocol: CONNECT (HTTP/1.1) or POST (HTTP/2); default CONNECT. */
  protocol?: string;
  /** Host to which the tunnelled connection is made (required). */
  targetHost: string;
  /** Port to which the tunnelled connection is made (required, 1–65535). */
  targetPort: number;
}

/** PROXY protocol to send upstream. */
export interface ProxyProtocol {
  /** PROXY protocol version: V1 (text) or V2 (binary); default V1. */
  version?: 'V1' | 'V2';
}

/** Retry budget: retries allowed as a share of active requests. */
export interface RetryBudget {
  /** Percentage (0–100) of active requests that may be retries; default 20. */
  percent?: number;
  /** Concurrent retries always allowed regardless of the percentage; default 3. */
  minRetryConcurrency?: number;
}

/** A named subset of the service's endpoints. */
export interface Subset {
  /** Subset name (required, unique within the rule), referenced by routes. */
  name: string;
  /** Labels the endpoints must carry. */
  labels?: Record<string, string>;
  /** Policies overriding the rule-level ones for this subset. */
  trafficPolicy?: TrafficPolicy;
}

/** Simple load-balancing algorithms. */
export type SimpleLB =
  'UNSPECIFIED' | 'RANDOM' | 'PASSTHROUGH' | 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'LEAST_CONN';

/** Load-balancing settings: simple or consistentHash (not both). */
export interface LoadBalancerSettings {
  /** A simple algorithm; UNSPECIFIED = LEAST_REQUEST. LEAST_CONN is a deprecated alias of LEAST_REQUEST. */
  simple?: SimpleLB;
  /** Consistent hashing (session affinity) on a request property. */
  consistentHash?: ConsistentHashLB;
  /** Locality-aware distribution or failover. */
  localityLbSetting?: LocalityLoadBalancerSetting;
  /** Slow-start window for new endpoints, duration (deprecated in favour of warmup). */
  warmupDurationSecs?: string;
  /** Slow-start configuration for new endpoints. */
  warmup?: WarmupConfiguration;
}

/** Slow start of new endpoints. */
export interface WarmupConfiguration {
  /** Length of the warm-up window (required), duration >= 1ms. */
  duration?: string;
  /** Minimum weight percentage (0–100) during warm-up; default 10. */
  minimumPercent?: number;
  /** Non-linear ramp factor (>= 1); default 1 (linear). */
  aggression?: number;
}

/** Consistent-hash load balancing: exactly one hash key, optional ring algorithm. */
export interface ConsistentHashLB {
  /** Hash on this request header. */
  httpHeaderName?: string;
  /** Hash on this cookie (set by the proxy when absent and ttl is given). */
  httpCookie?: HTTPCookie;
  /** Hash on the source IP. */
  useSourceIp?: boolean;
  /** Hash on this query parameter. */
  httpQueryParameterName?: string;
  /** Ring hash (ketama) with its ring size. */
  ringHash?: RingHash;
  /** Maglev with its table size. */
  maglev?: MagLev;
  /** Deprecated: ring size; use ringHash.minimumRingSize. */
  minimumRingSize?: number;
}

/** Cookie used as hash key. */
export interface HTTPCookie {
  /** Cookie name (required). */
  name: string;
  /** Path set on a generated cookie. */
  path?: string;
  /** Lifetime of a generated cookie, duration; 0s = session cookie. */
  ttl?: string;
  /** Extra attributes set on a generated cookie. */
  attributes?: { name: string; value?: string }[];
}

/** Ring-hash settings. */
export interface RingHash {
  /** Minimum number of virtual nodes on the ring; default 1024. */
  minimumRingSize?: number;
}

/** Maglev settings. */
export interface MagLev {
  /** Lookup table size (a prime number); default 65537. */
  tableSize?: number;
}

/** Locality-weighted distribution, failover or failover priority. */
export interface LocalityLoadBalancerSetting {
  /** Traffic shares by locality: `from` locality → `to` locality weights (summing to 100). */
  distribute?: LocalityDistribute[];
  /** Failover region pairs (requires outlierDetection). */
  failover?: LocalityFailover[];
  /** Ordered label keys used to prioritise endpoints (requires outlierDetection). */
  failoverPriority?: string[];
  /** Turn locality load balancing on or off; default mesh setting. */
  enabled?: boolean;
}

/** One locality distribution entry. */
export interface LocalityDistribute {
  /** Originating locality `region/zone/subzone`, `*` wildcards allowed. */
  from?: string;
  /** Destination locality → weight (percent, summing to 100). */
  to?: Record<string, number>;
}

/** One locality failover entry. */
export interface LocalityFailover {
  /** Originating region. */
  from?: string;
  /** Region to fail over to when `from` has no healthy endpoints. */
  to?: string;
}

/** Connection pool (circuit-breaker) limits, per upstream host. */
export interface ConnectionPoolSettings {
  /** Limits common to HTTP and TCP. */
  tcp?: TCPSettings;
  /** HTTP limits. */
  http?: HTTPSettings;
}

/** TCP-level connection pool settings. */
export interface TCPSettings {
  /** Maximum connections to each host (> 0); default 2^32-1. */
  maxConnections?: number;
  /** TCP connect timeout, duration >= 1ms; default 10s. */
  connectTimeout?: string;
  /** TCP keep-alive probing. */
  tcpKeepalive?: TcpKeepalive;
  /** Maximum lifetime of a connection, duration >= 1ms; absent = unlimited. */
  maxConnectionDuration?: string;
  /** Idle timeout of TCP connections, duration; default 1h. */
  idleTimeout?: string;
}

/** TCP keep-alive settings. */
export interface TcpKeepalive {
  /** Unanswered probes before the connection is dead; default OS (9 on Linux). */
  probes?: number;
  /** Idle time before probes start, duration; default OS (2h on Linux). */
  time?: string;
  /** Interval between probes, duration; default OS (75s on Linux). */
  interval?: string;
}

/** HTTP connection pool settings. */
export interface HTTPSettings {
  /** Maximum queued requests waiting for a connection (> 0); default 2^32-1. */
  http1MaxPendingRequests?: number;
  /** Maximum active requests to a host (> 0); default 2^32-1. */
  http2MaxRequests?: number;
  /** Maximum requests per connection (>= 0; 0 = unlimited, 1 = no keep-alive). */
  maxRequestsPerConnection?: number;
  /** Maximum outstanding retries to all hosts (> 0); default 2^32-1. */
  maxRetries?: number;
  /** Idle timeout of upstream connections, duration; default 1h. */
  idleTimeout?: string;
  /** Upgrade HTTP/1.1 connections to HTTP/2. */
  h2UpgradePolicy?: 'DEFAULT' | 'DO_NOT_UPGRADE' | 'UPGRADE';
  /** Use the client's protocol (HTTP/1.1 or HTTP/2) upstream. */
  useClientProtocol?: boolean;
  /** Maximum concurrent streams per HTTP/2 connection (> 0); default 2^31-1. */
  maxConcurrentStreams?: number;
}

/** Outlier detection (passive health checking). */
export interface OutlierDetection {
  /** Deprecated: consecutive 502/503/504 errors before ejection; use consecutiveGatewayErrors/consecutive5xxErrors. */
  consecutiveErrors?: number;
  /** Separate local-origin (connect) failures from external errors. */
  splitExternalLocalOriginErrors?: boolean;
  /** Consecutive local-origin failures before ejection (with splitExternalLocalOriginErrors); default 5. */
  consecutiveLocalOriginFailures?: number;
  /** Consecutive 502/503/504 (or connect failures) before ejection; 0 disables. */
  consecutiveGatewayErrors?: number;
  /** Consecutive 5xx (or connect failures) before ejection; default 5, 0 disables. */
  consecutive5xxErrors?: number;
  /** Time between ejection sweeps, duration >= 1ms; default 10s. */
  interval?: string;
  /** Minimum ejection time (multiplied by the ejection count), duration >= 1ms; default 30s. */
  baseEjectionTime?: string;
  /** Maximum percentage (0–100) of hosts ejected; default 10. */
  maxEjectionPercent?: number;
  /** Outlier detection is off when fewer than this percentage (0–100) of hosts are healthy; default 0. */
  minHealthPercent?: number;
}

/** TLS modes a client uses towards the upstream. */
export type ClientTLSMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

/** Client-side TLS settings. */
export interface ClientTLSSettings {
  /** TLS mode (required). */
  mode?: ClientTLSMode;
  /** Client certificate file (PEM) for MUTUAL. */
  clientCertificate?: string;
  /** Client private key file (PEM) for MUTUAL. */
  privateKey?: string;
  /** CA bundle file (PEM) to verify the server; absent = no verification unless insecureSkipVerify is false. */
  caCertificates?: string;
  /** Name of a secret holding client key, certificate and/or CA (replaces the file fields). */
  credentialName?: string;
  /** Acceptable server identities (SANs). */
  subjectAltNames?: string[];
  /** SNI to send. */
  sni?: string;
  /** Skip verifying the server certificate. */
  insecureSkipVerify?: boolean;
  /** Certificate revocation list file (PEM). */
  caCrl?: string;
}

// ---------- schema ----------

const subset = (): Validator<Subset> =>
  obj<Subset>({
    name: { v: str(checkSubsetName), required: true },
    labels: labels(),
    trafficPolicy: trafficPolicy(),
  });

/** Schema of DestinationRule.spec. */
export const destinationRuleSpec = (): Validator<DestinationRuleSpec> =>
  obj<DestinationRuleSpec>(
    {
      host: { v: nonEmpty(checkWildcardDomain), required: true },
      trafficPolicy: trafficPolicy(),
      subsets: list(subset()),
      exportTo: list(str()),
      workloadSelector: matchLabelsSelector(),
    },
    {
      rules: (s, at, c) => {
        const names = new Set<string>();
        s.subsets?.forEach((sub, i) => {
          if (names.has(sub.name))
            c.error(
              child(child(child(at, s, 'subsets'), s.subsets!, i), sub, 'name'),
              `duplicate subset name ${JSON.stringify(sub.name)}`,
            );
          names.add(sub.name);
        });
        const ns = namespaceOf(at);
        if (s.workloadSelector)
          checkSelectorLabels(
            s.workloadSelector.matchLabels,
            child(at, s, 'workloadSelector'),
            'matchLabels',
            c,
          );
        if (s.exportTo) {
          const exportAt = child(at, s, 'exportTo');
          const set = checkExportTo(s.exportTo, exportAt, c, ns, false);
          if (s.workloadSelector && set.size > 0) {
            const own = [...set].every((e) => e === '.' || e === ns);
            if (!own || set.size > 1)
              c.error(
                exportAt,
                'a DestinationRule with workloadSelector can only be exported to its own namespace (".")',
              );
          }
        }
      },
    },
  );

/** The DestinationRule kind. */
export const destinationRuleKind = istioKind(
  'DestinationRule',
  ISTIO_VERSIONS.networking,
  destinationRuleSpec(),
);
