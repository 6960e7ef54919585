// The MeshConfig `mizzen up` serves when the manifests bring none: Istio's demo profile settings that
// matter locally (access logs on stdout for every proxy, so `mizzen logs POD -c istio-proxy` shows them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes ConfigMap istio-system/istio (key `mesh`) with `accessLogFile: /dev/stdout` under the config dir. */
export function writeDemoMeshConfig(configDir: string): string {
  // The store merges files in path order, later ones winning: `00-defaults` sorts before `applied`
  // and `manifests`, so a ConfigMap the user applies replaces this one.
  const dir = join(configDir, '00-defaults');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'istio-mesh-config.yaml');
  writeFileSync(
    file,
    `# Written by mizzen up (the manifests have no ConfigMap istio-system/istio): Istio's demo profile
# turns access logs on for every proxy. Apply your own ConfigMap "istio" to change it.
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    accessLogFile: /dev/stdout
`,
  );
  return file;
}
