// Loads envoy.service.discovery.v3.AggregatedDiscoveryService with @grpc/proto-loader, shared by
// the ADS server and client, and types the DiscoveryRequest/DiscoveryResponse messages it carries.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { AnyMessage } from './protos.js';
import { envoyProtoDirs } from './protos.js';
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

/** The generated ADS client constructor; `.service` is the service definition for a server. */
export function adsServiceConstructor(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const definition = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: false,
    oneofs: false,
    includeDirs: envoyProtoDirs(),
  });
  const loaded = grpc.loadPackageDefinition(definition) as any;
  cached = loaded.envoy.service.discovery.v3.AggregatedDiscoveryService as grpc.ServiceClientConstructor;
  return cached;
}
