// MeshConfig fields Mizzen does not act on: each is named in a warning at validate, apply, up and in the
// server log, instead of being accepted and silently ignored (Istio has ~60 MeshConfig fields; Mizzen's
// control plane reads the ones listed here).
import { child, isPlainObject, type At, type Checker } from '../../schema.js';

type Obj = Record<string, unknown>;

/** Top-level MeshConfig fields the control plane reads (src/pilot/mesh-config.ts and the telemetry/authz readers). */
const ENFORCED = new Set([
  'outboundTrafficPolicy',
  'rootNamespace',
  'connectTimeout',
  'pathNormalization',
  'trustDomain',
  // Warned on its own (api/kinds/kubernetes/mesh-config.ts).
  'trustDomainAliases',
  'enableAutoMtls',
  'accessLogFile',
  'accessLogEncoding',
  'accessLogFormat',
  'enableTracing',
  'extensionProviders',
  'defaultProviders',
  'defaultConfig',
  // Read by the injectors (mizzen up, kube-inject, the injection webhook): src/local/prometheus-merge.ts.
  'enablePrometheusMerge',
]);

/** defaultConfig (ProxyConfig) fields the control plane reads; `tracing` has its own warnings. */
const ENFORCED_PROXY_CONFIG = new Set(['gatewayTopology', 'tracing']);

/** defaultConfig.gatewayTopology fields the gateways honour. */
const ENFORCED_GATEWAY_TOPOLOGY = new Set(['numTrustedProxies']);

const NO_EFFECT = 'is not enforced by Mizzen; it has no effect (remove it, or see docs/config-api.md)';

/** Warns about every MeshConfig field (top level, defaultConfig, gatewayTopology) Mizzen does not act on. */
export function warnUnenforcedMeshFields(doc: Obj, base: At, c: Checker): void {
  for (const k of Object.keys(doc)) if (!ENFORCED.has(k)) c.warn(child(base, doc, k), NO_EFFECT);
  const pc = doc.defaultConfig;
  if (!isPlainObject(pc)) return;
  const pcAt = child(base, doc, 'defaultConfig');
  for (const k of Object.keys(pc)) if (!ENFORCED_PROXY_CONFIG.has(k)) c.warn(child(pcAt, pc, k), NO_EFFECT);
  const gt = pc.gatewayTopology;
  if (!isPlainObject(gt)) return;
  const gtAt = child(pcAt, pc, 'gatewayTopology');
  for (const k of Object.keys(gt))
    if (!ENFORCED_GATEWAY_TOPOLOGY.has(k)) c.warn(child(gtAt, gt, k), NO_EFFECT);
}
