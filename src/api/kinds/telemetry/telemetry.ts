// Telemetry (telemetry.istio.io): tracing, metrics and access logging per mesh, namespace or workload.
import type { SpecResource } from '../../resource.js';
import type { PolicyTargetReference, WorkloadSelector } from '../security/policy-target.js';

/** Which side of the traffic a telemetry setting applies to. */
export type WorkloadMode = 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER';

/** Restricts a setting to client or server traffic. */
export interface WorkloadModeSelector {
  /** Default CLIENT_AND_SERVER. */
  mode?: WorkloadMode;
}

/** Names a telemetry provider defined in the mesh config's extensionProviders. */
export interface ProviderRef {
  name: string;
}

/** A constant tag value. */
export interface LiteralTag {
  value: string;
}

/** A tag read from the proxy's environment. */
export interface EnvironmentTag {
  /** Environment variable name. */
  name: string;
  /** Used when the variable is unset. */
  defaultValue?: string;
}

/** A tag read from a request header. */
export interface RequestHeaderTag {
  /** Header name. */
  name: string;
  /** Used when the header is absent. */
  defaultValue?: string;
}

/** Where a custom span tag's value comes from: exactly one of the three. */
export interface CustomTag {
  literal?: LiteralTag;
  environment?: EnvironmentTag;
  header?: RequestHeaderTag;
}

/** Tracing settings. */
export interface Tracing {
  match?: WorkloadModeSelector;
  /** Providers to report to; only the first is used. */
  providers?: ProviderRef[];
  /** Percentage of requests sampled, 0–100 (fractions allowed). */
  randomSamplingPercentage?: number;
  /** Keep tracing headers but report no spans. */
  disableSpanReporting?: boolean;
  /** Span tag name → how its value is found. */
  customTags?: Record<string, CustomTag>;
  /** Sample by x-request-id (default true). */
  useRequestIdForTraceSampling?: boolean;
}

/** Istio standard metric names. */
export type MetricName =
  | 'ALL_METRICS'
  | 'REQUEST_COUNT'
  | 'REQUEST_DURATION'
  | 'REQUEST_SIZE'
  | 'RESPONSE_SIZE'
  | 'TCP_OPENED_CONNECTIONS'
  | 'TCP_CLOSED_CONNECTIONS'
  | 'TCP_SENT_BYTES'
  | 'TCP_RECEIVED_BYTES'
  | 'GRPC_REQUEST_MESSAGES'
  | 'GRPC_RESPONSE_MESSAGES';

/** Which metrics an override applies to: a standard metric or a custom one, and which side. */
export interface MetricSelector {
  /** A standard metric. Exclusive with customMetric. */
  metric?: MetricName;
  /** A custom metric's name (without the `istio_` prefix). Exclusive with metric. */
  customMetric?: string;
  /** Default CLIENT_AND_SERVER. */
  mode?: WorkloadMode;
}

/** Adds, changes or removes one metric label. */
export interface TagOverride {
  /** Default UPSERT. */
  operation?: 'UPSERT' | 'REMOVE';
  /** CEL expression giving the label value; required for UPSERT, forbidden for REMOVE. */
  value?: string;
}

/** Changes to the selected metrics. */
export interface MetricsOverrides {
  match?: MetricSelector;
  /** Stop generating the selected metrics. */
  disabled?: boolean;
  /** Label name → change. */
  tagOverrides?: Record<string, TagOverride>;
}

/** Metrics settings. */
export interface Metrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  /** How often TCP metrics are reported, as written (e.g. "15s"). */
  reportingInterval?: string;
}

/** Which requests get an access log entry. */
export interface AccessLogFilter {
  /** CEL expression over request attributes, e.g. `response.code >= 400`. */
  expression: string;
}

/** Access logging settings. */
export interface AccessLogging {
  match?: WorkloadModeSelector;
  providers?: ProviderRef[];
  /** Turn access logging off for the selected scope. */
  disabled?: boolean;
  filter?: AccessLogFilter;
}

/** Telemetry.spec. */
export interface TelemetrySpec {
  /** Workloads this applies to; absent = the namespace (or mesh in the root namespace). */
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  tracing?: Tracing[];
  metrics?: Metrics[];
  accessLogging?: AccessLogging[];
}

/** A Telemetry resource. */
export type Telemetry = SpecResource<'Telemetry', TelemetrySpec>;
