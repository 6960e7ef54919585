// MeshConfig pathNormalization → the HttpConnectionManager fields istiod sets for it.
import type { envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager } from '../xds/envoy-types.js';
import { wrap } from './envoy.js';
import type { PathNormalization } from './mesh-config.js';

/**
 * Istio's mapping (pilot's listener builder): NONE leaves paths alone; BASE normalizes (RFC 3986 dot
 * segments, `\` → `/`); MERGE_SLASHES also merges `//`; DECODE_AND_MERGE_SLASHES also unescapes
 * %2F/%5C before normalizing and forwards the result.
 */
export function pathNormalizationFields(
  mode: PathNormalization,
): Pick<HttpConnectionManager, 'normalizePath' | 'mergeSlashes' | 'pathWithEscapedSlashesAction'> {
  switch (mode) {
    case 'NONE':
      return { normalizePath: wrap(false) };
    case 'BASE':
      return { normalizePath: wrap(true) };
    case 'MERGE_SLASHES':
      return { normalizePath: wrap(true), mergeSlashes: true };
    case 'DECODE_AND_MERGE_SLASHES':
      return {
        normalizePath: wrap(true),
        mergeSlashes: true,
        pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD',
      };
  }
}
