// Every connectionPool / loadBalancer setting pilot translates is read back by the proxy as intended:
// pilot's cluster → the proxy's compiled breaker thresholds, pool options, slow start, outlier config.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseThresholds } from '../../src/proxy/upstream/circuit-breaker.js';
import { outlierConfig } from '../../src/proxy/upstream/outlier/outlier-config.js';
import { poolOptions } from '../../src/proxy/upstream/pool/pool-options.js';
import { slowStartFrom } from '../../src/proxy/upstream/lb/slow-start/slow-start.js';
import { pilotCluster } from './pilot-cluster.js';

const dr = (trafficPolicy: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin }
spec:
  host: httpbin
  trafficPolicy:
${trafficPolicy}`;

describe('DestinationRule settings as the proxy sees them', () => {
  it('connectionPool: limits, timeouts, keepalive, per-connection limits', () => {
    const c = pilotCluster(
      dr(`    connectionPool:
      tcp:
        maxConnections: 7
        connectTimeout: 250ms
        maxConnectionDuration: 30s
        tcpKeepalive: { probes: 3, time: 600s, interval: 20s }
      http:
        http1MaxPendingRequests: 5
        http2MaxRequests: 9
        maxRetries: 2
        maxRequestsPerConnection: 4
        idleTimeout: 15s
        maxConcurrentStreams: 50
        h2UpgradePolicy: UPGRADE
`),
      [1],
    );
    assert.deepEqual(parseThresholds(c.circuitBreakers), {
      maxConnections: 7,
      maxPendingRequests: 5,
      maxRequests: 9,
      maxRetries: 2,
    });
    assert.deepEqual(c.connectTimeout, { nanos: 250_000_000 });
    assert.deepEqual(poolOptions(c), {
      maxRequestsPerConnection: 4,
      idleTimeoutMs: 15_000,
      maxConnectionDurationMs: 30_000,
      maxConcurrentStreams: 50,
      keepaliveTimeMs: 600_000,
      // A DestinationRule has no HTTP/2 PING setting (only an EnvoyFilter adds connection_keepalive).
      h2Keepalive: null,
    });
  });

  it('defaults: Istio limits 2^32-1, 1 h idle timeout, no keepalive', () => {
    const c = pilotCluster(dr(`    loadBalancer: { simple: LEAST_REQUEST }\n`), [1]);
    assert.equal(parseThresholds(c.circuitBreakers).maxConnections, 4294967295);
    const o = poolOptions(c);
    assert.deepEqual([o.idleTimeoutMs, o.maxRequestsPerConnection, o.keepaliveTimeMs], [3_600_000, 0, -1]);
  });

  it('warmup → slow start on round robin and least request', () => {
    const rr = pilotCluster(
      dr(
        `    loadBalancer: { simple: ROUND_ROBIN, warmup: { duration: 90s, minimumPercent: 20, aggression: 2 } }\n`,
      ),
      [1],
    );
    const ss = slowStartFrom(rr)!;
    assert.deepEqual([ss.windowMs, ss.minWeight, ss.aggression], [90_000, 0.2, 2]);
    const lr = pilotCluster(
      dr(`    loadBalancer: { simple: LEAST_REQUEST, warmupDurationSecs: 45s }\n`),
      [1],
    );
    assert.equal(slowStartFrom(lr)!.windowMs, 45_000);
  });

  it('outlierDetection with Istio defaults for what is left out', () => {
    const c = pilotCluster(
      dr(`    outlierDetection: { consecutive5xxErrors: 2, consecutiveGatewayErrors: 4 }\n`),
      [1],
    );
    const o = outlierConfig(c.outlierDetection)!;
    assert.deepEqual(
      [o.consecutive5xx, o.consecutiveGatewayFailure, o.enforcingConsecutiveGatewayFailure],
      [2, 4, 100],
    );
    assert.deepEqual([o.intervalMs, o.baseEjectionTimeMs, o.maxEjectionPercent], [10_000, 30_000, 10]);
    assert.equal(
      (c.commonLbConfig as any).healthyPanicThreshold.value ?? 0,
      0,
      'minHealthPercent 0: no panic',
    );
  });
});
