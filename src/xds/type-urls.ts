// xDS type URLs of the Envoy v3 resources Mizzen serves and consumes, and their short names.

/** Type URL prefix of every `google.protobuf.Any` Mizzen writes. */
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** The type URLs of the resource kinds carried over ADS (state of the world). */
export const TypeUrl = {
  /** LDS: envoy.config.listener.v3.Listener */
  LISTENER: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  /** RDS: envoy.config.route.v3.RouteConfiguration */
  ROUTE: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  /** CDS: envoy.config.cluster.v3.Cluster */
  CLUSTER: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  /** EDS: envoy.config.endpoint.v3.ClusterLoadAssignment */
  ENDPOINT: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  /** SDS: envoy.extensions.transport_sockets.tls.v3.Secret */
  SECRET: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  /** VHDS (delta xDS only): envoy.config.route.v3.VirtualHost, named `<route config name>/<virtual host>` */
  VIRTUAL_HOST: 'type.googleapis.com/envoy.config.route.v3.VirtualHost',
} as const;

/** One of the {@link TypeUrl} values. */
export type ResourceTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Order in which a push sends changed types (Envoy's make-before-break: CDS → EDS → LDS → RDS, then SDS). */
export const PUSH_ORDER: readonly string[] = [
  TypeUrl.CLUSTER,
  TypeUrl.ENDPOINT,
  TypeUrl.LISTENER,
  TypeUrl.ROUTE,
  TypeUrl.VIRTUAL_HOST,
  TypeUrl.SECRET,
];

const SHORT_NAMES: Record<string, string> = {
  [TypeUrl.LISTENER]: 'lds',
  [TypeUrl.ROUTE]: 'rds',
  [TypeUrl.CLUSTER]: 'cds',
  [TypeUrl.ENDPOINT]: 'eds',
  [TypeUrl.SECRET]: 'sds',
  [TypeUrl.VIRTUAL_HOST]: 'vhds',
};

/** Istio's short name for a type URL (`cds`, `eds`, `lds`, `rds`, `sds`, and `vhds`), or the message name for others. */
export function shortTypeName(typeUrl: string): string {
  return SHORT_NAMES[typeUrl] ?? typeNameOf(typeUrl);
}

/** The fully qualified message name in a type URL (the part after the last `/`). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** True for the types where an empty resource-name list means "everything" (LDS and CDS). */
export function isWildcardType(typeUrl: string): boolean {
  return typeUrl === TypeUrl.LISTENER || typeUrl === TypeUrl.CLUSTER;
}

/**
 * True for the types subscribed by namespace (Envoy's `use_namespace_matching`): VHDS, where subscribing a
 * route configuration's name asks for every virtual host named `<that name>/...`.
 */
export function isNamespacedType(typeUrl: string): boolean {
  return typeUrl === TypeUrl.VIRTUAL_HOST;
}

/** The namespace of a namespaced resource name: everything before its last `/` (`80/reviews:80` → `80`). */
export function namespaceOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '' : name.slice(0, i);
}

/**
 * The node `client_features` entry (reverse-DNS named, as Envoy asks of features outside its own list) by
 * which a proxy says it applies VHDS: the server then sends it sidecar route configurations as VHDS stubs
 * on a delta stream, and their virtual hosts one resource each.
 */
export const VHDS_CLIENT_FEATURE = 'io.mizzen.vhds';
