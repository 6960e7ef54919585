// ConfigMap (v1): plain configuration (e.g. the mesh config in istio/mesh).
import { str, bool, record, child } from '../../schema.js';
import { kubeKind } from '../../kind-helpers.js';
import type { Resource } from '../../resource.js';
import { checkBase64, checkConfigKey } from './names.js';
import { checkDataSize } from './secret.js';
import { checkMeshConfig, isMeshConfigMap } from './mesh-config.js';

/** A ConfigMap resource. */
export interface ConfigMap extends Resource {
  kind: 'ConfigMap';
  /** Key → UTF-8 text. */
  data?: Record<string, string>;
  /** Key → base64-encoded bytes; keys must not repeat those of data. */
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

/** The ConfigMap kind: values are strings (quote numbers), binaryData is base64, keys unique across both. */
export const configMapKind = kubeKind(
  'ConfigMap',
  ['v1'],
  {
    data: record(str(), checkConfigKey),
    binaryData: record(str(checkBase64), checkConfigKey),
    immutable: bool(),
  },
  {
    rules: (out, at, c) => {
      const m = out as unknown as ConfigMap;
      if (m.data && m.binaryData) {
        const bAt = child(at, out, 'binaryData');
        for (const k of Object.keys(m.binaryData))
          if (k in m.data) c.error(child(bAt, m.binaryData, k), `key ${JSON.stringify(k)} is also in data`);
      }
      checkDataSize([m.data, m.binaryData], [false, true], child(at, out, 'data'), c);
      if (m.data && isMeshConfigMap(m.metadata?.name, m.metadata?.namespace))
        checkMeshConfig(m.data, child(at, out, 'data'), c);
    },
  },
);
