// The mutual TLS mode a workload's port accepts, after Istio's PeerAuthentication precedence.
import type { Resource } from '../api/resource.js';
import type { PeerAuthenticationSpec } from '../api/kinds/security/peer-authentication.js';
import { nonEmpty, selects } from './labels.js';
import { ROOT_NAMESPACE, type MeshIndex, type Workload } from './mesh-index.js';

/** The effective mode and the policy that decided it (absent: Istio's default, PERMISSIVE). */
export interface EffectiveMtls {
  readonly mode: 'DISABLE' | 'PERMISSIVE' | 'STRICT';
  readonly policy?: Resource;
}

const set = (m: string | undefined): m is 'DISABLE' | 'PERMISSIVE' | 'STRICT' =>
  m === 'DISABLE' || m === 'PERMISSIVE' || m === 'STRICT';

/**
 * Workload-level policy (selector matches; its port-level setting first) over namespace-level over the
 * mesh-wide policy in the root namespace; UNSET inherits from the next scope; the oldest (first loaded)
 * policy wins within a scope.
 */
export function effectiveMtls(index: MeshIndex, w: Workload, port: number | undefined): EffectiveMtls {
  const policies = index.ofKind('PeerAuthentication');
  const specOf = (r: Resource): PeerAuthenticationSpec => r.spec ?? {};
  const workloadLevel = policies.find((r) => {
    const labels = specOf(r).selector?.matchLabels;
    return r.metadata.namespace === w.namespace && nonEmpty(labels) && selects(labels, w.labels);
  });
  if (workloadLevel) {
    const s = specOf(workloadLevel);
    const portMode = port !== undefined ? s.portLevelMtls?.[String(port)]?.mode : undefined;
    if (set(portMode)) return { mode: portMode, policy: workloadLevel };
    if (set(s.mtls?.mode)) return { mode: s.mtls.mode, policy: workloadLevel };
  }
  for (const ns of [w.namespace, ROOT_NAMESPACE]) {
    const p = policies.find((r) => r.metadata.namespace === ns && !nonEmpty(specOf(r).selector?.matchLabels));
    const mode = p ? specOf(p).mtls?.mode : undefined;
    if (p && set(mode)) return { mode, policy: p };
  }
  return { mode: 'PERMISSIVE' };
}
