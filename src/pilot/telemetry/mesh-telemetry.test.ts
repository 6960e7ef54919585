// MeshConfig telemetry fields as pilot reads them: tracing providers' defaults and timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meshTelemetryOf } from './mesh-telemetry.js';

test('tracing extensionProviders: Istio defaults for zipkin and opentelemetry, OTLP timeouts honoured', () => {
  const t = meshTelemetryOf({
    extensionProviders: [
      { name: 'zipkin', zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411 } },
      { name: 'otel-http', opentelemetry: { service: 'otel', port: 4318, http: { timeout: '2s' } } },
      { name: 'otel-grpc', opentelemetry: { service: 'otel', port: 4317, grpc: { timeout: '250ms' } } },
      { name: 'otel-default', opentelemetry: { service: 'otel' } },
    ],
  });
  const [z, h, g, d] = t.extensionProviders as any[];
  assert.deepEqual(
    [z.kind, z.path, z.port, z.maxTagLength, z.timeoutMs],
    ['zipkin', '/api/v2/spans', 9411, 256, 5000],
  );
  assert.deepEqual([h.grpc, h.path, h.timeoutMs], [false, '/v1/traces', 2000]);
  assert.deepEqual([g.grpc, g.timeoutMs], [true, 250]);
  assert.deepEqual([d.grpc, d.port, d.timeoutMs], [true, 4317, 5000]);
  assert.equal(t.sampling, 1, "Istio's default sampling");
});
