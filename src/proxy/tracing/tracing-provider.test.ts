// compileTracer on HCM tracing fields the proxy cannot honour: rejected naming the field (a NACK over
// xDS) or, for span logs only, warned about; the values pilot sends compile quietly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SnapshotSource } from '../config/snapshot.js';
import { StatsStore } from '../stats/stats-store.js';
import { compileTracer } from './tracing-provider.js';

const zipkin = (extra: Record<string, unknown> = {}) => ({
  name: 'envoy.tracers.zipkin',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
    collectorCluster: 'zipkin',
    ...extra,
  },
});
const otel = (extra: Record<string, unknown> = {}) => ({
  name: 'envoy.tracers.opentelemetry',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
    grpcService: { envoyGrpc: { clusterName: 'otel' } },
    ...extra,
  },
});

function compile(tracing: Record<string, unknown>): string[] {
  const source = {} as SnapshotSource; // reporters read it only when they send
  const warnings: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string) => {
    warnings.push(String(chunk));
    return true;
  };
  try {
    compileTracer({ tracing }, { store: new StatsStore(), source });
  } finally {
    process.stderr.write = write;
  }
  return warnings.filter((w) => w.includes('\twarning\t'));
}

describe('tracing config the proxy does not honour', () => {
  it("compiles pilot's Zipkin and OpenTelemetry providers without a warning", () => {
    assert.deepEqual(
      compile({ provider: zipkin({ traceId_128bit: true, sharedSpanContext: { value: false } }) }),
      [],
    );
    assert.deepEqual(compile({ provider: otel({ serviceName: 'svc.ns' }) }), []);
  });

  it('rejects Zipkin splitSpansForRequest and HCM spawnUpstreamSpan (no upstream spans)', () => {
    assert.throws(
      () => compile({ provider: zipkin({ splitSpansForRequest: true }) }),
      /tracing\.splitSpansForRequest: true is not supported/,
    );
    assert.throws(
      () => compile({ provider: zipkin(), spawnUpstreamSpan: { value: true } }),
      /tracing\.spawnUpstreamSpan: true is not supported/,
    );
    assert.deepEqual(
      compile({ provider: zipkin({ splitSpansForRequest: false }), spawnUpstreamSpan: { value: false } }),
      [],
    );
  });

  it('rejects an OpenTelemetry sampler or resource detectors', () => {
    const sampler = { name: 'envoy.tracers.opentelemetry.samplers.always_on', typedConfig: {} };
    assert.throws(
      () => compile({ provider: otel({ sampler }) }),
      /tracing\.sampler \(envoy\.tracers\.opentelemetry\.samplers\.always_on\) is not supported/,
    );
    assert.throws(
      () =>
        compile({
          provider: otel({
            resourceDetectors: [{ name: 'envoy.tracers.opentelemetry.resource_detectors.environment' }],
          }),
        }),
      /tracing\.resourceDetectors are not supported/,
    );
  });

  it('warns in one line that verbose is not enforced', () => {
    const w = compile({ provider: zipkin(), verbose: true });
    assert.equal(w.length, 1);
    assert.match(w[0], /tracing\.verbose: true is not enforced/);
  });
});
