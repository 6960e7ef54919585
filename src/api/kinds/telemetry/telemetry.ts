// Telemetry (telemetry.istio.io): tracing, metrics and access logging per mesh, namespace or workload.
import {
  obj,
  list,
  str,
  nonEmpty,
  bool,
  num,
  enumOf,
  record,
  duration,
  exactlyOne,
  fieldAt,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import {
  checkOneTargetKind,
  policyTargetReference,
  workloadSelector,
  type PolicyTargetReference,
  type WorkloadSelector,
} from '../security/policy-target.js';
import { warnUnenforced } from './telemetry-support.js';
import { celSyntaxError } from './cel-syntax.js';

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

/** A tag computed with an access-log formatter, e.g. "%REQ(:PATH)%". */
export interface FormatterTag {
  value: string;
}

/** Where a custom span tag's value comes from: exactly one of the four. */
export interface CustomTag {
  literal?: LiteralTag;
  environment?: EnvironmentTag;
  header?: RequestHeaderTag;
  formatter?: FormatterTag;
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
  /** Add Istio's own tags (istio.canonical_service, ...) to spans (default true). */
  enableIstioTags?: boolean;
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

// ---------- validation ----------

const MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] as const;
const METRICS = [
  'ALL_METRICS',
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES',
  'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
] as const;

const modeSelector = (): Validator<WorkloadModeSelector> =>
  obj<WorkloadModeSelector>({ mode: enumOf(MODES) });

const providers = (): Validator<ProviderRef[]> =>
  list(obj<ProviderRef>({ name: { required: true, v: nonEmpty() } }));

const customTag = (): Validator<CustomTag> =>
  obj<CustomTag>(
    {
      literal: obj<LiteralTag>({ value: { required: true, v: nonEmpty() } }),
      environment: obj<EnvironmentTag>({ name: { required: true, v: nonEmpty() }, defaultValue: str() }),
      header: obj<RequestHeaderTag>({ name: { required: true, v: nonEmpty() }, defaultValue: str() }),
      formatter: obj<FormatterTag>({ value: { required: true, v: nonEmpty() } }),
    },
    {
      rules: (t, at, c) =>
        exactlyOne(t as Record<string, unknown>, ['literal', 'environment', 'header', 'formatter'], at, c),
    },
  );

const tracing = (): Validator<Tracing> =>
  obj<Tracing>(
    {
      match: modeSelector(),
      providers: providers(),
      randomSamplingPercentage: num(0, 100),
      disableSpanReporting: bool(),
      customTags: record(customTag(), (k, at, c) => {
        if (k === '') c.error(at, 'tag name must not be empty');
      }),
      useRequestIdForTraceSampling: bool(),
      enableIstioTags: bool(),
    },
    {
      rules: (t, at, c) => {
        if ((t.providers?.length ?? 0) > 1)
          c.warn(fieldAt(at, t, 'providers'), 'only the first tracing provider is used');
      },
    },
  );

const tagOverride = (): Validator<TagOverride> =>
  obj<TagOverride>(
    { operation: enumOf(['UPSERT', 'REMOVE'] as const), value: str() },
    {
      rules: (o, at, c) => {
        if ((o.operation ?? 'UPSERT') === 'UPSERT' && !o.value)
          c.error(fieldAt(at, o, 'value'), 'is required when operation is UPSERT (the default)');
        else if (o.operation === 'REMOVE' && o.value !== undefined)
          c.error(fieldAt(at, o, 'value'), 'may only be set when operation is UPSERT');
      },
    },
  );

const metricSelector = (): Validator<MetricSelector> =>
  obj<MetricSelector>(
    { metric: enumOf(METRICS), customMetric: nonEmpty(), mode: enumOf(MODES) },
    {
      rules: (m, at, c) => exactlyOne(m as Record<string, unknown>, ['metric', 'customMetric'], at, c, true),
    },
  );

const metrics = (): Validator<Metrics> =>
  obj<Metrics>({
    providers: providers(),
    overrides: list(
      obj<MetricsOverrides>({
        match: metricSelector(),
        disabled: bool(),
        tagOverrides: record(tagOverride(), (k, at, c) => {
          if (k === '') c.error(at, 'tag name must not be empty');
        }),
      }),
    ),
    reportingInterval: duration(1),
  });

/** A filter expression must parse as CEL (Istio rejects one that does not). */
function checkCel(expr: string, at: At, c: Checker): void {
  const err = celSyntaxError(expr);
  if (err) c.error(at, `must be a valid CEL expression: ${err}`);
}

const accessLogging = (): Validator<AccessLogging> =>
  obj<AccessLogging>({
    match: modeSelector(),
    providers: providers(),
    disabled: bool(),
    filter: obj<AccessLogFilter>({ expression: { required: true, v: nonEmpty(checkCel) } }),
  });

/** Schema of Telemetry.spec. */
export const telemetrySpec = (): Validator<TelemetrySpec> =>
  obj<TelemetrySpec>(
    {
      selector: workloadSelector(),
      targetRef: policyTargetReference(),
      targetRefs: list(policyTargetReference(), { max: 16 }),
      tracing: list(tracing()),
      metrics: list(metrics()),
      accessLogging: list(accessLogging()),
    },
    {
      rules: (s, at, c) => {
        checkOneTargetKind(s, at, c);
        if ((s.tracing?.length ?? 0) > 1)
          c.warn(fieldAt(at, s, 'tracing'), 'only one tracing entry is supported; the first is used');
        warnUnenforced(s, at, c);
      },
    },
  );

/** The Telemetry kind (telemetry.istio.io v1alpha1 and v1). */
export const telemetryKind = istioKind('Telemetry', ISTIO_VERSIONS.telemetry, telemetrySpec());
