// MeshConfig inside ConfigMap istio-system/istio (key `mesh`): the enum fields Mizzen acts on are checked.
import { child, duration, enumOf, isPlainObject, obj, type At, type Checker } from '../../schema.js';
import { valuePos } from '../../positions.js';
import { parseEmbeddedYaml } from '../../yaml-load.js';
import { warnUnenforcedMeshFields } from './mesh-config-fields.js';
import { warnUnenforcedTracing } from './mesh-config-tracing.js';
import { meshConfigRules } from './mesh-config-checks.js';

/** MeshConfig.ProxyPathNormalization.NormalizationType names (DEFAULT means BASE). */
export const PATH_NORMALIZATION_NAMES = [
  'DEFAULT',
  'NONE',
  'BASE',
  'MERGE_SLASHES',
  'DECODE_AND_MERGE_SLASHES',
] as const;

// The values Mizzen acts on are checked, so a misspelt one does not quietly fall back to the default;
// fields it does not act on are warned about (mesh-config-fields.ts).
const meshFields = obj<Record<string, unknown>>(
  {
    pathNormalization: obj({ normalization: enumOf(PATH_NORMALIZATION_NAMES) }),
    outboundTrafficPolicy: obj({ mode: enumOf(['ALLOW_ANY', 'REGISTRY_ONLY']) }),
    // Istio's bounds: 1 ms to 1 hour.
    connectTimeout: duration(1, 3_600_000),
  },
  { allowUnknown: true },
);

/** True for the ConfigMap Mizzen (like istiod) reads MeshConfig from: `istio` in istio-system. */
export function isMeshConfigMap(name: string | undefined, namespace: string | undefined): boolean {
  return name === 'istio' && (namespace === undefined || namespace === 'istio-system');
}

/** Parses and checks `data.mesh`; positions point into the ConfigMap's file. */
export function checkMeshConfig(data: Record<string, string>, dataAt: At, c: Checker): void {
  const text = data.mesh;
  if (typeof text !== 'string') return;
  const at = child(dataAt, data, 'mesh');
  const p = valuePos(data, 'mesh') ?? c.docPos;
  // A block scalar (`mesh: |`) starts on the line after the key; a one-line value on the key's line.
  const parsed = parseEmbeddedYaml(text, p.file, text.includes('\n') ? p.line : p.line - 1);
  for (const d of parsed.diagnostics)
    c.diagnostics.push({ ...d, path: at.path, ...(c.resource ? { resource: c.resource } : {}) });
  const doc = parsed.docs[0]?.value;
  if (doc === undefined) return;
  if (!isPlainObject(doc)) {
    c.error(at, 'must be a YAML object of MeshConfig fields');
    return;
  }
  meshFields(doc, { path: at.path, holder: doc, key: undefined }, c);
  meshConfigRules(doc, { path: at.path, holder: doc, key: undefined }, c);
  warnUnenforcedTracing(doc, { path: at.path, holder: doc, key: undefined }, c);
  warnUnenforcedMeshFields(doc, { path: at.path, holder: doc, key: undefined }, c);
  const aliases = doc.trustDomainAliases;
  if (Array.isArray(aliases) && aliases.length > 0)
    c.warn(
      child({ path: at.path, holder: doc, key: undefined }, doc, 'trustDomainAliases'),
      'not supported: only identities in trustDomain are accepted (clients verify servers under it alone)',
    );
}
