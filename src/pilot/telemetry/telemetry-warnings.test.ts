// Telemetry providers that cannot take effect are named, with their resource; defined ones are not.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pushFromYaml } from '../test-util.js';
import { telemetryWarnings } from './telemetry-warnings.js';

const MESH = `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
    extensionProviders:
    - name: otel-logs
      envoyOtelAls: { service: otel.observability.svc.cluster.local, port: 4317 }
    - name: file-json
      envoyFileAccessLog: { path: /dev/stdout }
`;

const TELEMETRY = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  metrics:
  - providers: [{ name: prometheus }]
  accessLogging:
  - providers: [{ name: file-json }, { name: envoy }, { name: stackdriver }, { name: otel-logs }]
`;

it('names undefined and unsupported providers, not the defined and built-in ones', () => {
  const w = telemetryWarnings(pushFromYaml(MESH, TELEMETRY));
  assert.ok(
    w.some((l) => /envoyOtelAls is not supported/.test(l)),
    w.join('\n'),
  );
  assert.ok(
    w.some((l) =>
      l.startsWith(
        'Telemetry istio-system/mesh-default: accessLogging provider "stackdriver" is not defined',
      ),
    ),
    w.join('\n'),
  );
  assert.ok(
    w.some((l) => /provider "otel-logs" \(unsupported\)/.test(l)),
    w.join('\n'),
  );
  assert.ok(!w.some((l) => /"prometheus"|"envoy"|"file-json"/.test(l)), w.join('\n'));
});
