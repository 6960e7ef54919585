// The HCM tracer on a real in-process proxy: context propagation to the upstream (B3, single b3, W3C),
// sampling (random, parent flag, x-envoy-force-trace), Envoy's span tags, and export to real Zipkin,
// OTLP/HTTP and OTLP/gRPC collectors on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Proxy } from '../proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  stat,
  waitFor,
  type Backend,
} from '../test-util.js';
import { GrpcCollector, HttpCollector } from './test-collectors.js';

const ZIPKIN = {
  name: 'envoy.tracers.zipkin',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
    collectorCluster: 'collector',
    collectorEndpoint: '/api/v2/spans',
    collectorEndpointVersion: 'HTTP_JSON',
    traceId_128bit: true,
  },
};

function tracedListener(
  name: string,
  tracing: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): any {
  const rc = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: 'backend' } }]);
  return httpListener(name, hcm(rc, { tracing, ...extra }));
}

/** What pilot sends (Istio's Zipkin provider): 128-bit ids, SERVER spans not shared with the caller's. */
const ISTIO_ZIPKIN = {
  ...ZIPKIN,
  typedConfig: { ...ZIPKIN.typedConfig, sharedSpanContext: { value: false } },
};
/** Envoy's defaults: 64-bit trace ids, shared SERVER spans. */
const ENVOY_ZIPKIN = {
  ...ZIPKIN,
  typedConfig: { ...ZIPKIN.typedConfig, traceId_128bit: undefined },
};

const T32 = '463ac35c9f6413ad48485a3953bb6124';
const PARENT = '0020000000000001';
const SPAN = 'a2fb4a1d1a96d312';

describe('HCM tracing', () => {
  let backend: Backend;
  let http: HttpCollector;
  let grpc: GrpcCollector;
  let proxy: Proxy;
  const ports: Record<string, number> = {};

  before(async () => {
    backend = await startBackend('backend');
    http = new HttpCollector();
    grpc = new GrpcCollector();
    const httpPort = await http.listen();
    const grpcPort = await grpc.listen();
    const sampled = (v: number, provider: unknown, more: Record<string, unknown> = {}) => ({
      randomSampling: { value: v },
      customTags: [
        { tag: 'lit', literal: { value: 'x' } },
        { tag: 'hdr', requestHeader: { name: 'x-tag', defaultValue: 'dflt' } },
      ],
      ...(provider ? { provider } : {}),
      ...more,
    });
    const otlpHttp = {
      name: 'envoy.tracers.opentelemetry',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        serviceName: 'otel-http-svc',
        httpService: { httpUri: { uri: 'http://collector/v1/traces', cluster: 'collector', timeout: '5s' } },
      },
    };
    const otlpGrpc = {
      name: 'envoy.tracers.opentelemetry',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        serviceName: 'otel-grpc-svc',
        grpcService: { envoyGrpc: { clusterName: 'grpc-collector' } },
      },
    };
    const noCluster = { ...ZIPKIN, typedConfig: { ...ZIPKIN.typedConfig, collectorCluster: 'missing' } };
    proxy = await startProxy(
      [
        tracedListener('zipkin', sampled(100, ZIPKIN)),
        tracedListener('never', sampled(0, ZIPKIN)),
        { ...tracedListener('inbound', sampled(100, ISTIO_ZIPKIN)), trafficDirection: 'INBOUND' },
        { ...tracedListener('inbound-shared', sampled(100, ENVOY_ZIPKIN)), trafficDirection: 'INBOUND' },
        tracedListener('zipkin64', sampled(100, ENVOY_ZIPKIN)),
        tracedListener('otlp-http', sampled(100, otlpHttp)),
        tracedListener('otlp-grpc', sampled(100, otlpGrpc)),
        tracedListener('no-report', sampled(100, null)),
        tracedListener('no-cluster', sampled(100, noCluster)),
      ],
      [
        staticCluster('backend', [backend.port]),
        staticCluster('collector', [httpPort]),
        staticCluster('grpc-collector', [grpcPort], { http2ProtocolOptions: {} }),
      ],
    );
    for (const n of [
      'zipkin',
      'zipkin64',
      'inbound-shared',
      'never',
      'inbound',
      'otlp-http',
      'otlp-grpc',
      'no-report',
      'no-cluster',
    ])
      ports[n] = proxy.listenerPort(n);
  });

  after(async () => {
    await proxy.close();
    await backend.close();
    http.close();
    grpc.close();
  });

  /** Sends `n` requests with fresh request ids; returns the ids and what the backend saw of the last. */
  async function send(listener: string, n: number, headers: Record<string, string> = {}) {
    const rids: string[] = [];
    for (let i = 0; i < n; i++) {
      const rid = randomUUID();
      rids.push(rid);
      const r = await get(ports[listener], '/p?q=1', { 'x-request-id': rid, ...headers });
      assert.equal(r.status, 200);
    }
    return { rids, seen: backend.seen[backend.seen.length - 1].headers };
  }

  it('starts a trace, propagates it in B3 and W3C, and reports a CLIENT span to Zipkin', async () => {
    const { rids, seen } = await send('zipkin', 5, { 'x-tag': 'from-client', 'user-agent': 'ua/1' });
    assert.match(String(seen['x-b3-traceid']), /^[0-9a-f]{32}$/);
    assert.match(String(seen['x-b3-spanid']), /^[0-9a-f]{16}$/);
    assert.equal(seen['x-b3-sampled'], '1');
    assert.equal(seen['x-b3-parentspanid'], undefined);
    assert.equal(seen['traceparent'], `00-${seen['x-b3-traceid']}-${seen['x-b3-spanid']}-01`);
    assert.equal(String(seen['x-request-id'])[14], '9', 'x-request-id carries the sampled status');
    await waitFor('spans at the collector', () => http.ofRequest(rids[4]).length === 1, 20_000);
    const s = http.ofRequest(rids[4])[0];
    assert.equal(s.traceId, seen['x-b3-traceid']);
    assert.equal(s.id, seen['x-b3-spanid']);
    assert.equal(s.kind, 'CLIENT');
    assert.equal(s.tags['http.method'], 'GET');
    assert.match(s.tags['http.url'], /^http:\/\/127\.0\.0\.1:\d+\/p\?q=1$/);
    assert.equal(s.tags['http.status_code'], '200');
    assert.equal(s.tags['upstream_cluster'], 'backend');
    assert.equal(s.tags['response_flags'], '-');
    assert.equal(s.tags['component'], 'proxy');
    assert.equal(s.tags['user_agent'], 'ua/1');
    assert.equal(s.tags['lit'], 'x');
    assert.equal(s.tags['hdr'], 'from-client');
    assert.ok(s.duration > 0 && s.timestamp > 1.7e15);
  });

  it('continues an incoming B3 context as a SERVER span on inbound listeners, with its parent', async () => {
    const { rids, seen } = await send('inbound', 5, {
      'x-b3-traceid': T32,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '1',
    });
    assert.equal(seen['x-b3-traceid'], T32);
    assert.equal(seen['x-b3-parentspanid'], SPAN);
    assert.notEqual(seen['x-b3-spanid'], SPAN);
    await waitFor('spans at the collector', () => http.ofRequest(rids[4]).length === 1, 20_000);
    const s = http.ofRequest(rids[4])[0];
    assert.equal(s.kind, 'SERVER');
    assert.equal(s.parentId, SPAN);
    assert.equal(s.traceId, T32);
    assert.equal(s.tags['hdr'], 'dflt');
  });

  it('shares the caller span id on inbound SERVER spans when shared_span_context is unset (Envoy default)', async () => {
    const { rids, seen } = await send('inbound-shared', 5, {
      'x-b3-traceid': T32,
      'x-b3-spanid': SPAN,
      'x-b3-parentspanid': PARENT,
      'x-b3-sampled': '1',
    });
    // The next hop sees the shared span as its parent, as behind Envoy.
    assert.equal(seen['x-b3-spanid'], SPAN);
    assert.equal(seen['x-b3-parentspanid'], PARENT);
    await waitFor('spans at the collector', () => http.ofRequest(rids[4]).length === 1, 20_000);
    const s = http.ofRequest(rids[4])[0];
    assert.equal(s.kind, 'SERVER');
    assert.equal(s.id, SPAN);
    assert.equal(s.parentId, PARENT);
    assert.equal(s.shared, true);
    // No incoming context: a new root span, not shared.
    const fresh = await send('inbound-shared', 1);
    assert.notEqual(fresh.seen['x-b3-spanid'], SPAN);
    assert.equal(fresh.seen['x-b3-parentspanid'], undefined);
  });

  it('makes 64-bit trace ids when trace_id_128bit is unset (Envoy default) and 128-bit when set', async () => {
    const short = await send('zipkin64', 5);
    assert.match(String(short.seen['x-b3-traceid']), /^[0-9a-f]{16}$/);
    assert.equal(
      short.seen['traceparent'],
      `00-${'0'.repeat(16)}${short.seen['x-b3-traceid']}-${short.seen['x-b3-spanid']}-01`,
    );
    await waitFor('spans at the collector', () => http.ofRequest(short.rids[4]).length === 1, 20_000);
    assert.equal(http.ofRequest(short.rids[4])[0].traceId, short.seen['x-b3-traceid']);
    // CLIENT spans are never shared, even with the default shared_span_context.
    const child = await send('zipkin64', 1, {
      'x-b3-traceid': T32,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '1',
    });
    assert.equal(child.seen['x-b3-parentspanid'], SPAN);
    assert.notEqual(child.seen['x-b3-spanid'], SPAN);
    const long = await send('zipkin', 1);
    assert.match(String(long.seen['x-b3-traceid']), /^[0-9a-f]{32}$/);
  });

  it('keeps the single b3 header format and reads W3C traceparent', async () => {
    let r = await send('zipkin', 1, { b3: `${T32}-${SPAN}-1` });
    assert.match(String(r.seen['b3']), new RegExp(`^${T32}-[0-9a-f]{16}-1-${SPAN}$`));
    r = await send('zipkin', 1, { traceparent: `00-${T32}-${SPAN}-01`, tracestate: 'k=v' });
    assert.equal(r.seen['x-b3-traceid'], T32);
    assert.equal(r.seen['x-b3-parentspanid'], SPAN);
    assert.equal(r.seen['tracestate'], 'k=v');
    assert.match(String(r.seen['traceparent']), new RegExp(`^00-${T32}-[0-9a-f]{16}-01$`));
  });

  it('honours 0 % sampling, a parent not-sampled flag and x-envoy-force-trace', async () => {
    const none = await send('never', 5);
    assert.equal(none.seen['x-b3-sampled'], '0');
    assert.match(String(none.seen['traceparent']), /-00$/);
    const parentNo = await send('zipkin', 5, {
      'x-b3-traceid': T32,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '0',
    });
    assert.equal(parentNo.seen['x-b3-sampled'], '0');
    // Forced requests on the same reporter come after: once they arrived, the others would have too.
    const forced = await send('never', 5, { 'x-envoy-force-trace': 'true' });
    assert.equal(forced.seen['x-b3-sampled'], '1');
    assert.equal(String(forced.seen['x-request-id'])[14], 'a', 'forced status in x-request-id');
    await waitFor(
      'spans at the collector',
      () => forced.rids.every((r) => http.ofRequest(r).length === 1),
      20_000,
    );
    for (const r of [...none.rids, ...parentNo.rids]) assert.deepEqual(http.ofRequest(r), []);
  });

  it('exports OTLP over HTTP (protobuf) with the resource service name', async () => {
    const { rids, seen } = await send('otlp-http', 5, {
      'x-b3-traceid': T32,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '1',
    });
    await waitFor('spans at the collector', () => http.otlp.ofRequest(rids[4]).length === 1, 20_000);
    const s = http.otlp.ofRequest(rids[4])[0];
    assert.equal(s.traceId, T32);
    assert.equal(s.parentId, SPAN);
    assert.equal(s.id, seen['x-b3-spanid']);
    assert.equal(s.kind, 'CLIENT');
    assert.equal(s.localEndpoint.serviceName, 'otel-http-svc');
    assert.equal(s.tags['upstream_cluster'], 'backend');
    assert.equal(s.tags['http.status_code'], '200');
  });

  it('exports OTLP over gRPC', async () => {
    const { rids } = await send('otlp-grpc', 5);
    await waitFor('spans at the collector', () => grpc.ofRequest(rids[4]).length === 1, 20_000);
    const s = grpc.ofRequest(rids[4])[0];
    assert.equal(s.localEndpoint.serviceName, 'otel-grpc-svc');
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.ok((await stat(proxy, 'tracing.opentelemetry.spans_sent')) >= 5);
  });

  it('propagates without a provider (disableSpanReporting) and counts reports with no collector cluster', async () => {
    const r = await send('no-report', 2);
    assert.equal(r.seen['x-b3-sampled'], '1');
    await send('no-cluster', 5);
    await waitFor(
      'the stat',
      async () => (await stat(proxy, 'tracing.zipkin.reports_skipped_no_cluster')) >= 1,
      20_000,
    );
    assert.ok((await stat(proxy, 'tracing.zipkin.spans_sent')) >= 10);
  });
});
