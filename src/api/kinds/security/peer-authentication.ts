// PeerAuthentication (security.istio.io): which mutual TLS mode a workload's inbound ports accept.
import type { SpecResource } from '../../resource.js';
import type { WorkloadSelector } from './policy-target.js';

/** Mutual TLS modes. UNSET inherits from the parent scope (namespace, then mesh). */
export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

/** Mutual TLS settings of one scope or port. */
export interface PeerMtls {
  /** How inbound connections are accepted; absent means UNSET. */
  mode?: MtlsMode;
}

/** PeerAuthentication.spec. */
export interface PeerAuthenticationSpec {
  /** Workloads this policy applies to; absent = the whole namespace (or mesh in the root namespace). */
  selector?: WorkloadSelector;
  /** Mode for every port not listed in portLevelMtls. */
  mtls?: PeerMtls;
  /** Workload port number (as a string key, e.g. "8080") → mode for that port; needs a selector. */
  portLevelMtls?: Record<string, PeerMtls>;
}

/** A PeerAuthentication resource. */
export type PeerAuthentication = SpecResource<'PeerAuthentication', PeerAuthenticationSpec>;
