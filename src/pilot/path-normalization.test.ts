// MeshConfig pathNormalization reaches every HTTP connection manager a proxy gets, as istiod sets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../xds/type-urls.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from './test-util.js';

const MESH = `apiVersion: v1
kind: Service
metadata: { name: a, namespace: team1 }
spec: { selector: { app: a }, ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: a-0, namespace: team1, labels: { app: a } }
spec: { containers: [{ name: a }] }
status: { podIP: 10.0.1.1 }
`;

const proxyA = proxyRef({ ip: '10.0.1.1', name: 'a-0', namespace: 'team1', labels: { app: 'a' } });

function meshConfig(mode: string | null): string {
  if (mode === null) return '';
  return `---
apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
    pathNormalization:
      normalization: ${mode}
`;
}

/** Every HCM typed config in the proxy's listeners (after a proto round trip, as a proxy sees them). */
function hcms(mode: string | null): any[] {
  const g = generatorFor(pushFromYaml(MESH + meshConfig(mode)));
  const out: any[] = [];
  for (const l of g.generate(proxyA, TypeUrl.LISTENER, [])) {
    const rt = roundTrip(TypeUrl.LISTENER, l) as any;
    for (const fc of rt.filterChains ?? [])
      for (const f of fc.filters ?? [])
        if (f.typedConfig?.statPrefix && f.typedConfig.httpFilters) out.push(f.typedConfig);
  }
  return out;
}

const cases: [string | null, any, boolean, string | undefined][] = [
  [null, true, false, undefined],
  ['BASE', true, false, undefined],
  ['NONE', false, false, undefined],
  ['MERGE_SLASHES', true, true, undefined],
  ['DECODE_AND_MERGE_SLASHES', true, true, 'UNESCAPE_AND_FORWARD'],
];

for (const [mode, normalize, merge, escaped] of cases) {
  test(`pathNormalization ${mode ?? '(unset: BASE)'} sets the HCM path fields`, () => {
    const list = hcms(mode);
    assert.ok(list.length >= 2, 'expected inbound and outbound HTTP connection managers');
    for (const h of list) {
      assert.equal(Boolean(h.normalizePath?.value ?? h.normalizePath), normalize, h.statPrefix);
      assert.equal(h.mergeSlashes === true, merge, h.statPrefix);
      assert.equal(
        h.pathWithEscapedSlashesAction === 'IMPLEMENTATION_SPECIFIC_DEFAULT'
          ? undefined
          : h.pathWithEscapedSlashesAction,
        escaped,
        h.statPrefix,
      );
    }
  });
}
