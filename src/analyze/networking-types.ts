// Minimal shapes of the networking.istio.io kinds the analyzers read (field names as Istio's proto JSON).
//
// The full types live in src/api/kinds/networking/ as they land; these local ones keep the analyzers
// independent of which of them are committed yet, and name only the fields analysis needs.

/** A route or mirror destination. */
export interface DestinationShape {
  host?: string;
  subset?: string;
  port?: { number?: number };
}

/** A weighted route destination (http, tcp, tls). */
export interface RouteDestinationShape {
  destination?: DestinationShape;
  weight?: number;
}

/** One http match entry (only the fields that decide whether it is a catch-all are named). */
export interface HTTPMatchShape {
  name?: string;
  uri?: { exact?: string; prefix?: string; regex?: string };
  gateways?: string[];
  [field: string]: unknown;
}

/** One http rule. */
export interface HTTPRouteShape {
  name?: string;
  match?: HTTPMatchShape[];
  route?: RouteDestinationShape[];
  mirror?: DestinationShape;
  mirrors?: { destination?: DestinationShape }[];
  [field: string]: unknown;
}

/** One tcp or tls rule. */
export interface L4RouteShape {
  match?: { gateways?: string[]; [field: string]: unknown }[];
  route?: RouteDestinationShape[];
}

/** VirtualService.spec. */
export interface VirtualServiceShape {
  hosts?: string[];
  gateways?: string[];
  http?: HTTPRouteShape[];
  tcp?: L4RouteShape[];
  tls?: L4RouteShape[];
  exportTo?: string[];
}

/** Client TLS settings of a DestinationRule. */
export interface ClientTlsShape {
  mode?: string;
}

/** A traffic policy (rule, subset or port level). */
export interface TrafficPolicyShape {
  tls?: ClientTlsShape;
  portLevelSettings?: { port?: { number?: number }; tls?: ClientTlsShape }[];
}

/** DestinationRule.spec. */
export interface DestinationRuleShape {
  host?: string;
  trafficPolicy?: TrafficPolicyShape;
  subsets?: { name?: string; labels?: Record<string, string>; trafficPolicy?: TrafficPolicyShape }[];
  exportTo?: string[];
  workloadSelector?: { matchLabels?: Record<string, string> };
}

/** One server of a Gateway. */
export interface GatewayServerShape {
  port?: { number?: number; name?: string; protocol?: string };
  hosts?: string[];
  bind?: string;
}

/** Gateway.spec. */
export interface GatewayShape {
  selector?: Record<string, string>;
  servers?: GatewayServerShape[];
}

/** One port of a ServiceEntry. */
export interface ServiceEntryPortShape {
  number?: number;
  protocol?: string;
  name?: string;
  targetPort?: number;
}

/** ServiceEntry.spec. */
export interface ServiceEntryShape {
  hosts?: string[];
  addresses?: string[];
  ports?: ServiceEntryPortShape[];
  location?: string;
  resolution?: string;
  endpoints?: { address?: string; labels?: Record<string, string> }[];
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
}

/** Sidecar.spec. */
export interface SidecarShape {
  workloadSelector?: { labels?: Record<string, string> };
}
