// envoy.tracers.opentelemetry: OTLP export to the collector of an OpenTelemetryConfig, over HTTP
// (`http_service`: POST protobuf to the URI's path on its cluster) or gRPC (`grpc_service.envoy_grpc`:
// TraceService/Export on a host of the cluster, with @grpc/grpc-js).
import { createRequire } from 'node:module';
import type { Client } from '@grpc/grpc-js';
import type {
  envoy_config_core_v3_HttpService as HttpService,
  envoy_config_trace_v3_OpenTelemetryConfig as OpenTelemetryConfig,
} from '../../xds/envoy-types.js';
import type { SnapshotSource } from '../config/snapshot.js';
import type { StatsStore } from '../stats/stats-store.js';
import { durationMs } from '../util/values.js';
import { BatchReporter, type SpanSender } from './batch-reporter.js';
import { postToCollector, SendResult, type CollectorTarget } from './collector-client.js';
import { otlpProtobufEncoder } from './otlp-encoder.js';
import type { SpanReporter } from './span.js';

const EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** A reporter recipe for an OpenTelemetryConfig: a key (same collector → same reporter) and a builder. */
export interface OtlpRecipe {
  readonly key: string;
  make(store: StatsStore, source: SnapshotSource): SpanReporter;
}

function httpTarget(h: HttpService): CollectorTarget {
  const u = h.httpUri ?? {};
  const cluster = u.cluster ?? '';
  if (!cluster) throw new Error('httpService.httpUri.cluster: required');
  let path = '/v1/traces';
  let hostname = '';
  try {
    const url = new URL(u.uri ?? '');
    path = url.pathname + url.search;
    hostname = url.host;
  } catch {
    throw new Error(`httpService.httpUri.uri: not a URL: "${u.uri ?? ''}"`);
  }
  const headers: Record<string, string> = {};
  for (const o of h.requestHeadersToAdd ?? [])
    if (o.header?.key) headers[o.header.key.toLowerCase()] = o.header.value ?? '';
  return { cluster, path, hostname, timeoutMs: durationMs(u.timeout, 5000), headers };
}

/** One gRPC client per collector host, reused across reports. */
function grpcSender(
  source: SnapshotSource,
  cluster: string,
  authority: string,
  timeoutMs: number,
): SpanSender {
  // grpc-js (~0.7 MiB of source) loads when a gRPC collector is configured, not in every proxy.
  const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const { credentials, Metadata } = grpc;
  const clients = new Map<string, Client>();
  return (body, done) => {
    const host = source.current.cluster(cluster)?.pick({ tried: null }) ?? null;
    if (host === null) {
      done(SendResult.NoCluster);
      return;
    }
    const target = host.address.includes(':')
      ? `[${host.address}]:${host.port}`
      : `${host.address}:${host.port}`;
    let c = clients.get(target);
    if (!c) {
      if (clients.size >= 16) {
        for (const old of clients.values()) old.close();
        clients.clear();
      }
      const opts = authority ? { 'grpc.default_authority': authority } : {};
      clients.set(target, (c = new grpc.Client(target, credentials.createInsecure(), opts)));
    }
    try {
      c.makeUnaryRequest(
        EXPORT,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err) => done(err ? SendResult.Failed : SendResult.Sent),
      );
    } catch {
      done(SendResult.Failed);
    }
  };
}

/** The reporter recipe of an OpenTelemetryConfig. Throws on config it cannot serve. */
export function otlpReporter(cfg: OpenTelemetryConfig): OtlpRecipe {
  // Sampling follows the HCM's percentages; the resource carries service.name only.
  if (cfg.sampler)
    throw new Error(
      `sampler (${cfg.sampler.name ?? ''}) is not supported by this proxy (sampling follows the HCM's random/client/overall sampling)`,
    );
  if ((cfg.resourceDetectors ?? []).length > 0)
    throw new Error(
      'resourceDetectors are not supported by this proxy (the resource carries service.name only)',
    );
  const serviceName = cfg.serviceName ?? '';
  const encoder = otlpProtobufEncoder(serviceName);
  if (cfg.httpService) {
    const t = httpTarget(cfg.httpService);
    return {
      key: `http|${serviceName}|${JSON.stringify(t)}`,
      make: (store, source) =>
        new BatchReporter(store, 'opentelemetry', encoder, (body, done) =>
          postToCollector(source, t, encoder.contentType, body, done),
        ),
    };
  }
  const g = cfg.grpcService?.envoyGrpc;
  if (!g) throw new Error('grpcService.envoyGrpc or httpService: required (googleGrpc is not supported)');
  const cluster = g.clusterName ?? '';
  if (!cluster) throw new Error('grpcService.envoyGrpc.clusterName: required');
  const authority = g.authority ?? '';
  const timeoutMs = durationMs(cfg.grpcService?.timeout, 5000);
  return {
    key: `grpc|${serviceName}|${cluster}|${authority}`,
    make: (store, source) =>
      new BatchReporter(store, 'opentelemetry', encoder, grpcSender(source, cluster, authority, timeoutMs)),
  };
}
