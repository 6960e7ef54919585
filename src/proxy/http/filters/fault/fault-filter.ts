// envoy.filters.http.fault: injects delays (DI) and aborts (FI) per route via typed_per_filter_config.
import type { ActiveRequest } from '../../active-request.js';
import { ProxyErrorCode } from '../../local-reply.js';
import { Flag } from '../../response-flags.js';
import { DISABLED } from '../../route/route-entry.js';
import { matchAllHeaders } from '../../../matchers/header-matcher.js';
import type { Counter, Gauge } from '../../../stats/stats-store.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import { FaultConfig, roll } from './fault-config.js';
import type { envoy_extensions_filters_http_fault_v3_HTTPFault as HTTPFault } from '../../../../xds/envoy-types.js';

/** One request's fault state (its filter slot): the delay timer while a delay runs. */
class FaultState {
  timer: NodeJS.Timeout | null = null;
}

/** The fault filter of one HCM. */
export class FaultFilter implements HttpFilter {
  private readonly slot: number;
  private readonly delays: Counter;
  private readonly aborts: Counter;
  private readonly overflow: Counter;
  private readonly active: Gauge;
  readonly encodeHeaders = null;

  constructor(
    readonly name: string,
    private readonly config: FaultConfig,
    ctx: FilterContext,
  ) {
    this.delays = ctx.scope.counter('fault.delays_injected');
    this.aborts = ctx.scope.counter('fault.aborts_injected');
    this.overflow = ctx.scope.counter('fault.faults_overflow');
    this.active = ctx.scope.gauge('fault.active_faults');
    this.slot = ctx.slot;
  }

  private configFor(req: ActiveRequest): FaultConfig | null {
    const c = req.route?.perFilter?.get(this.name) ?? req.vhost?.perFilter?.get(this.name) ?? this.config;
    return c === DISABLED ? null : (c as FaultConfig);
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const c = this.configFor(req);
    if (
      c === null ||
      (c.delayPerMillion === 0 && c.abortPerMillion === 0 && c.delayMs >= 0 && c.abortStatus >= 0)
    )
      return FilterStatus.Continue;
    if (c.headers.length > 0 && !matchAllHeaders(c.headers, req)) return FilterStatus.Continue;
    if (c.upstreamCluster !== '' && req.route?.cluster !== c.upstreamCluster) return FilterStatus.Continue;
    if (this.active.value >= c.maxActiveFaults) {
      this.overflow.inc();
      return FilterStatus.Continue;
    }
    const delay = this.delayFor(req, c);
    if (delay > 0) {
      this.delays.inc();
      this.active.inc();
      req.responseFlags |= Flag.DI;
      const st = new FaultState();
      st.timer = setTimeout(this.onDelayDone, delay, req);
      req.filterState[this.slot] = st;
      return FilterStatus.Stop;
    }
    return this.maybeAbort(req, c);
  }

  private delayFor(req: ActiveRequest, c: FaultConfig): number {
    if (c.delayMs === 0) return 0;
    if (c.delayMs < 0) {
      const h = Number(req.headers['x-envoy-fault-delay-request']);
      return Number.isFinite(h) && h > 0 && roll(c.delayPerMillion) ? h : 0;
    }
    return roll(c.delayPerMillion) ? c.delayMs : 0;
  }

  private maybeAbort(req: ActiveRequest, c: FaultConfig): FilterStatus {
    if (!c.hasAbort || !roll(c.abortPerMillion)) return FilterStatus.Continue;
    let status = c.abortStatus;
    if (status < 0) {
      status = Number(req.headers['x-envoy-fault-abort-request']);
      if (!Number.isInteger(status) || status < 200 || status >= 600) return FilterStatus.Continue;
    }
    this.aborts.inc();
    req.sendLocalReply(
      ProxyErrorCode.FaultAbort,
      false,
      status || (c.abortGrpc >= 0 ? 200 : 503),
      c.abortGrpc,
    );
    return FilterStatus.Stop;
  }

  private readonly onDelayDone = (req: ActiveRequest): void => {
    this.release(req);
    if (req.done) return;
    const c = this.configFor(req);
    if (c !== null && this.maybeAbort(req, c) === FilterStatus.Stop) return;
    req.continueDecoding();
  };

  readonly onDestroy = (req: ActiveRequest): void => {
    this.release(req);
  };

  /** Ends an active delay (fired, or the stream ended first): clears its timer once, frees its slot. */
  private release(req: ActiveRequest): void {
    const st = req.filterState[this.slot] as FaultState | null;
    if (st === null) return;
    req.filterState[this.slot] = null;
    if (st.timer !== null) clearTimeout(st.timer);
    this.active.dec();
  }
}

/** Factory for `envoy.filters.http.fault`. */
export const faultFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.fault', 'envoy.fault'],
  configTypes: ['envoy.extensions.filters.http.fault.v3.HTTPFault'],
  create: (name, cfg, ctx) => new FaultFilter(name, new FaultConfig(cfg as HTTPFault), ctx),
  compilePerRoute: (cfg) => new FaultConfig(cfg as HTTPFault),
};
