// PeerAuthentication (security.istio.io): which mutual TLS mode a workload's inbound ports accept.
import { obj, record, enumOf, fieldAt, type At, type Checker, type Validator } from '../../schema.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import { workloadSelector, type WorkloadSelector } from './policy-target.js';

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

// ---------- validation ----------

const MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

const peerMtls = (): Validator<PeerMtls> => obj<PeerMtls>({ mode: enumOf(MODES) });

function checkPortKey(k: string, at: At, c: Checker): void {
  const n = /^\d{1,5}$/.test(k) ? Number(k) : NaN;
  if (!(n >= 1 && n <= 65535))
    c.error(at, `port-level mTLS keys must be port numbers between 1 and 65535, got ${JSON.stringify(k)}`);
}

/** Schema of PeerAuthentication.spec: port-level settings need a workload selector. */
export const peerAuthenticationSpec = (): Validator<PeerAuthenticationSpec> =>
  obj<PeerAuthenticationSpec>(
    { selector: workloadSelector(), mtls: peerMtls(), portLevelMtls: record(peerMtls(), checkPortKey) },
    {
      rules: (s, at, c) => {
        if (!s.portLevelMtls) return;
        const pAt = fieldAt(at, s, 'portLevelMtls');
        if (Object.keys(s.portLevelMtls).length === 0) c.error(pAt, 'must have at least one port when set');
        else if (!s.selector?.matchLabels || Object.keys(s.selector.matchLabels).length === 0)
          c.error(
            pAt,
            'needs a selector with matchLabels: mesh- and namespace-wide policies cannot set port-level mTLS',
          );
      },
    },
  );

/** The PeerAuthentication kind. */
export const peerAuthenticationKind = istioKind(
  'PeerAuthentication',
  ISTIO_VERSIONS.security,
  peerAuthenticationSpec(),
);
