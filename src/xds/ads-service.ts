// envoy.service.discovery.v3.AggregatedDiscoveryService for grpc-js, shared by the ADS server and
// client, and the types of the DiscoveryRequest/DiscoveryResponse messages it carries.
import * as grpc from '@grpc/grpc-js';
import type { IConversionOptions, Type } from 'protobufjs';
import type { AnyMessage } from './protos.js';
import { lookupType } from './protos.js';
import type { CanonicalStruct } from './struct.js';

/** envoy.config.core.v3.Node as carried in a DiscoveryRequest (the fields Mizzen reads). */
export interface NodeMessage {
  /** Proxy id, e.g. `sidecar~127.1.0.2~reviews-v1-0.default~default.svc.cluster.local`. */
  id?: string;
  /** Service cluster of the proxy. */
  cluster?: string;
  /** Istio node metadata (NAMESPACE, LABELS, ...). */
  metadata?: CanonicalStruct;
  /** Where the proxy runs. */
  locality?: { region?: string; zone?: string; subZone?: string };
  /** `envoy`, `grpc-node-js`, `mizzen`, ... */
  userAgentName?: string;
  /** Version of the user agent. */
  userAgentVersion?: string;
  /** Features the client supports (Envoy's well-known names, or reverse-DNS named ones). */
  clientFeatures?: string[];
}

/** envoy.service.discovery.v3.DiscoveryRequest (state of the world). */
export interface DiscoveryRequestMessage {
  /** Version the client last accepted for this type ('' before the first ACK). */
  versionInfo?: string;
  /** Sent on the first request of a stream. */
  node?: NodeMessage;
  /** Subscribed names; empty means wildcard for LDS/CDS. */
  resourceNames?: string[];
  typeUrl?: string;
  /** Nonce of the response this request ACKs/NACKs; '' on an initial request. */
  responseNonce?: string;
  /** Set on a NACK: why the response was rejected (google.rpc.Status). */
  errorDetail?: { code?: number; message?: string };
}

/** envoy.service.discovery.v3.DiscoveryResponse (state of the world). */
export interface DiscoveryResponseMessage {
  versionInfo?: string;
  /** Every resource of the type the client subscribed to. */
  resources?: AnyMessage[];
  typeUrl?: string;
  /** Unique per response; the client echoes it in its ACK/NACK. */
  nonce?: string;
  /** Identifies the control plane instance. */
  controlPlane?: { identifier?: string };
}

/** envoy.service.discovery.v3.DeltaDiscoveryRequest (incremental xDS). */
export interface DeltaDiscoveryRequestMessage {
  /** Sent on the first request of a stream. */
  node?: NodeMessage;
  typeUrl?: string;
  /** Names to add to the subscription; `*` (or nothing on the first request of LDS/CDS) = wildcard. */
  resourceNamesSubscribe?: string[];
  /** Names to drop from the subscription. */
  resourceNamesUnsubscribe?: string[];
  /** On the first request of a type on a new stream: versions the client already has, by name. */
  initialResourceVersions?: Record<string, string>;
  /** Nonce of the response this request ACKs/NACKs; '' for a request that only (un)subscribes. */
  responseNonce?: string;
  /** Set on a NACK (google.rpc.Status). */
  errorDetail?: { code?: number; message?: string };
}

/** envoy.service.discovery.v3.Resource as carried in a delta response. */
export interface DeltaResourceMessage {
  name?: string;
  version?: string;
  resource?: AnyMessage;
}

/** envoy.service.discovery.v3.DeltaDiscoveryResponse (incremental xDS). */
export interface DeltaDiscoveryResponseMessage {
  systemVersionInfo?: string;
  /** Added or changed resources only. */
  resources?: DeltaResourceMessage[];
  typeUrl?: string;
  /** Names the client must drop. */
  removedResources?: string[];
  nonce?: string;
  controlPlane?: { identifier?: string };
}

let cached: grpc.ServiceClientConstructor | null = null;

/**
 * How messages on the ADS stream are turned into objects: @grpc/proto-loader's conversion with the
 * options this service was once loaded with (camelCase fields, 64-bit integers as numbers, enums by
 * name, no defaults, no virtual oneof fields; `Any` stays `{ type_url, value }`).
 */
const MESSAGE_OPTIONS: IConversionOptions = Object.freeze({
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: false,
});

/** A bidirectional streaming method of the ADS service over `request` and `response` messages. */
function streamMethod(name: string, request: Type, response: Type): grpc.MethodDefinition<object, object> {
  return {
    path: `/envoy.service.discovery.v3.AggregatedDiscoveryService/${name}`,
    originalName: name,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: object) => Buffer.from(request.encode(request.fromObject(m)).finish()),
    requestDeserialize: (b: Buffer) => request.toObject(request.decode(b), MESSAGE_OPTIONS),
    responseSerialize: (m: object) => Buffer.from(response.encode(response.fromObject(m)).finish()),
    responseDeserialize: (b: Buffer) => response.toObject(response.decode(b), MESSAGE_OPTIONS),
  };
}

/**
 * The ADS client constructor; `.service` is the service definition for a server. Its messages are the
 * types of the Envoy descriptor every process already loads (src/xds/protos.ts), rather than a second
 * parse of the discovery protos by @grpc/proto-loader (which cost each sidecar ~0.3 s of start-up CPU
 * and a second copy of those types in memory).
 */
export function adsServiceConstructor(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const t = (name: string): Type => lookupType(`envoy.service.discovery.v3.${name}`);
  const service: grpc.ServiceDefinition = {
    StreamAggregatedResources: streamMethod(
      'StreamAggregatedResources',
      t('DiscoveryRequest'),
      t('DiscoveryResponse'),
    ),
    DeltaAggregatedResources: streamMethod(
      'DeltaAggregatedResources',
      t('DeltaDiscoveryRequest'),
      t('DeltaDiscoveryResponse'),
    ),
  };
  cached = grpc.makeGenericClientConstructor(service, 'AggregatedDiscoveryService');
  return cached;
}
