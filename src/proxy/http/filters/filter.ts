// The HTTP filter seam: a factory per Envoy filter name compiles config once; the filter object is
// shared by all streams of an HCM and keeps its per-request state in its own slot of the request
// (`req.filterState[ctx.slot]`, Envoy's per-filter-per-stream object), so a new filter touches only
// its own folder.
import type { Scope } from '../../stats/stats-store.js';
import type { HeaderMap } from '../route/header-mutation.js';
import type { ActiveRequest } from '../active-request.js';
import type { AnyMessageOf } from '../../../xds/envoy-types.js';

/** An HCM http_filters entry's typed_config: the Any's fields (`{}` when the entry has none). */
export type FilterTypedConfig = Partial<AnyMessageOf>;

/** What decodeHeaders tells the filter chain. */
export const enum FilterStatus {
  /** Run the next filter now. */
  Continue = 0,
  /** Stop; the filter will call `req.continueDecoding()` or send a reply itself. */
  Stop = 1,
}

/** A configured filter instance of one HCM. */
export interface HttpFilter {
  /** The filter's name in the HCM (key of typed_per_filter_config). */
  readonly name: string;
  /** Request headers are in and the route is chosen (req.route may be null). */
  decodeHeaders(req: ActiveRequest): FilterStatus;
  /** Response headers are about to go downstream (upstream or local reply); null when unused. */
  readonly encodeHeaders: ((req: ActiveRequest, status: number, headers: HeaderMap) => void) | null;
  /** The stream ended (completed or reset): release per-request resources. Null when unused. */
  readonly onDestroy: ((req: ActiveRequest) => void) | null;
}

/** What a factory receives when building a filter. */
export interface FilterContext {
  /** `http.<stat_prefix>.` scope of the HCM. */
  readonly scope: Scope;
  /**
   * This filter's index into `ActiveRequest.filterState`, fixed when the HCM config is compiled.
   * The slot starts as null for every request; the filter alone reads and writes it.
   */
  readonly slot: number;
  /** The proxy's node (id and bootstrap metadata), for filters that report who this proxy is; null in tests. */
  readonly node?: NodeInfo | null;
}

/** The proxy's node as its bootstrap / command line gave it. */
export interface NodeInfo {
  readonly id: string;
  /** Istio's node metadata keys (NAME, NAMESPACE, LABELS, WORKLOAD_NAME, SERVICE_ACCOUNT, CLUSTER_ID, ...). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Builds filters of one kind. */
export interface HttpFilterFactory {
  /** Well-known filter names (e.g. `envoy.filters.http.fault`). */
  readonly names: readonly string[];
  /** Config message types (after the type URL's '/'), e.g. `envoy.extensions.filters.http.fault.v3.HTTPFault`. */
  readonly configTypes: readonly string[];
  /** Compiles the HCM-level config into a filter. Throws Error on invalid config. */
  create(name: string, typedConfig: FilterTypedConfig, ctx: FilterContext): HttpFilter;
  /**
   * Compiles a route/vhost typed_per_filter_config entry (the Any, FilterConfig already unwrapped);
   * null when the filter has none.
   */
  readonly compilePerRoute: ((typedConfig: unknown) => unknown) | null;
}
