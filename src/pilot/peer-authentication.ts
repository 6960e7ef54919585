// PeerAuthentication → the mutual TLS mode each workload port accepts, with Istio's precedence:
// workload-level (selector; its portLevelMtls first) over namespace-level over mesh-level (root
// namespace, no selector); UNSET inherits from the next scope; within a scope the oldest policy wins
// (creationTimestamp, then name). No policy at all: PERMISSIVE.
import type { ConfigSnapshot } from '../config/store.js';
import type { PeerAuthentication, MtlsMode } from '../api/kinds/security/peer-authentication.js';
import { selects } from '../registry/labels.js';

/** An enforced mode. */
export type EffectiveMtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The mode and the policy that decided it ('' = Istio's default). */
export interface MtlsDecision {
  readonly mode: EffectiveMtlsMode;
  /** `namespace/name` of the deciding PeerAuthentication, or ''. */
  readonly policy: string;
}

const DEFAULT: MtlsDecision = { mode: 'PERMISSIVE', policy: '' };

const enforced = (m: MtlsMode | undefined): m is EffectiveMtlsMode =>
  m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE';

/** PeerAuthentications indexed by namespace, each list oldest first. Immutable. */
export class PeerAuthnIndex {
  private readonly workload = new Map<string, PeerAuthentication[]>();
  private readonly namespace = new Map<string, PeerAuthentication>();

  constructor(
    policies: readonly PeerAuthentication[],
    private readonly rootNamespace: string,
  ) {
    const sorted = [...policies].sort(oldestFirst);
    for (const p of sorted) {
      const ns = p.metadata.namespace ?? 'default';
      const labels = p.spec?.selector?.matchLabels;
      if (labels && Object.keys(labels).length > 0) {
        const l = this.workload.get(ns) ?? [];
        l.push(p);
        this.workload.set(ns, l);
      } else if (!this.namespace.has(ns)) this.namespace.set(ns, p);
    }
  }

  /** True when no PeerAuthentication exists (everything PERMISSIVE). */
  get empty(): boolean {
    return this.workload.size === 0 && this.namespace.size === 0;
  }

  /** The mode of a workload port (`port` = the workload's own port, as portLevelMtls keys are). */
  modeFor(namespace: string, labels: Readonly<Record<string, string>>, port: number): MtlsDecision {
    if (this.empty) return DEFAULT;
    const w = this.workload.get(namespace)?.find((p) => selects(p.spec?.selector?.matchLabels, labels));
    if (w) {
      const portMode = w.spec?.portLevelMtls?.[String(port)]?.mode;
      if (enforced(portMode)) return { mode: portMode, policy: nameOf(w) };
      if (enforced(w.spec?.mtls?.mode)) return { mode: w.spec.mtls.mode, policy: nameOf(w) };
    }
    for (const ns of [namespace, this.rootNamespace]) {
      const p = this.namespace.get(ns);
      const mode = p?.spec?.mtls?.mode;
      if (p && enforced(mode)) return { mode, policy: nameOf(p) };
    }
    return DEFAULT;
  }

  /**
   * The ports the workload's own policy sets in portLevelMtls (Istio builds an extra inbound
   * passthrough chain for each one no service declares).
   */
  portLevelPorts(namespace: string, labels: Readonly<Record<string, string>>): number[] {
    const w = this.workload.get(namespace)?.find((p) => selects(p.spec?.selector?.matchLabels, labels));
    return Object.keys(w?.spec?.portLevelMtls ?? {})
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0 && n <= 65535);
  }
}

function nameOf(p: PeerAuthentication): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

function oldestFirst(a: PeerAuthentication, b: PeerAuthentication): number {
  const ta = Date.parse(String(a.metadata.creationTimestamp ?? '')) || 0;
  const tb = Date.parse(String(b.metadata.creationTimestamp ?? '')) || 0;
  if (ta !== tb) return ta - tb;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Builds the index from a snapshot. */
export function indexPeerAuthentications(snapshot: ConfigSnapshot, rootNamespace: string): PeerAuthnIndex {
  return new PeerAuthnIndex(snapshot.byKind('PeerAuthentication') as PeerAuthentication[], rootNamespace);
}
