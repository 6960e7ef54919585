// envoy.filters.http.ext_authz: for each request its filter_enabled_metadata admits (Istio: a CUSTOM
// rule matched), optionally buffers the body, asks the external authorizer (HTTP or gRPC), then
// continues with the authorizer's header edits, answers with its denial (status, headers, body), or on
// a failed check answers status_on_error (403) unless failure_mode_allow lets the request through.
import { Readable } from 'node:stream';
import type { ActiveRequest } from '../../active-request.js';
import { ProxyErrorCode } from '../../local-reply.js';
import { Flag } from '../../response-flags.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { DISABLED } from '../../route/route-entry.js';
import type { Counter } from '../../../stats/stats-store.js';
import { FilterStatus, type FilterContext, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import type { CheckResult, HeaderEdit } from './check-result.js';
import { ExtAuthzConfig } from './ext-authz-config.js';
import { grpcCheck } from './grpc-check.js';
import { httpCheck } from './http-check.js';
import type {
  envoy_extensions_filters_http_ext_authz_v3_ExtAuthz as ExtAuthz,
  envoy_extensions_filters_http_ext_authz_v3_ExtAuthzPerRoute as ExtAuthzPerRoute,
} from '../../../../xds/envoy-types.js';

/** Envoy's ext_authz counters (`http.<prefix>.ext_authz.*`). */
interface ExtAuthzStats {
  readonly ok: Counter;
  readonly denied: Counter;
  readonly error: Counter;
  readonly failureModeAllowed: Counter;
}

/** One request's check (its filter slot): the body being buffered, later the headers for the client. */
class CheckState {
  chunks: Buffer[] = [];
  size = 0;
  body: Readable | null = null;
  /** Headers added to the response on allow (allowed_client_headers_on_success). */
  downstream: readonly HeaderEdit[] = [];
  checking = false;
  constructor(readonly req: ActiveRequest) {}
}

function applyEdit(h: HeaderMap, [name, value, append]: HeaderEdit): void {
  const cur = h[name];
  if (!append || cur === undefined) h[name] = value;
  else h[name] = Array.isArray(cur) ? [...cur, value] : [cur, value];
}

/** The ext_authz filter of one HCM. */
export class ExtAuthzFilter implements HttpFilter {
  private readonly slot: number;

  constructor(
    readonly name: string,
    private readonly config: ExtAuthzConfig,
    private readonly stats: ExtAuthzStats,
    ctx: FilterContext,
  ) {
    this.slot = ctx.slot;
  }

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const per = req.route?.perFilter?.get(this.name) ?? req.vhost?.perFilter?.get(this.name);
    if (per === DISABLED) return FilterStatus.Continue;
    const c = this.config;
    if (c.enabledMetadata !== null && !c.enabledMetadata.match(req.dynamicMetadata))
      return FilterStatus.Continue;
    const st = new CheckState(req);
    req.filterState[this.slot] = st;
    const wb = c.withRequestBody;
    if (wb !== null && req.body !== null) {
      const cl = Number(req.headers['content-length']);
      if (!wb.allowPartialMessage && Number.isFinite(cl) && cl > wb.maxRequestBytes) {
        req.filterState[this.slot] = null;
        req.hcm.stats.downstream_rq_too_large.inc();
        req.sendLocalReply(ProxyErrorCode.BufferTooLarge);
        return FilterStatus.Stop;
      }
      this.bufferBody(st, req.body, wb.maxRequestBytes, wb.allowPartialMessage);
      return FilterStatus.Stop;
    }
    this.check(st, null);
    return FilterStatus.Stop;
  }

  /** Reads the body up to `max` bytes (Envoy's with_request_body), then checks with it. */
  private bufferBody(st: CheckState, body: Readable, max: number, partial: boolean): void {
    st.body = body;
    const onData = (d: Buffer): void => {
      st.req.touch();
      st.chunks.push(d);
      st.size += d.length;
      if (st.size < max) return;
      if (!partial) {
        cleanup();
        body.pause();
        this.release(st.req);
        st.req.hcm.stats.downstream_rq_too_large.inc();
        st.req.sendLocalReply(ProxyErrorCode.BufferTooLarge);
        return;
      }
      // Enough for the check; the rest of the body follows the buffered part upstream.
      cleanup();
      body.pause();
      const sent = Buffer.concat(st.chunks);
      st.req.body = Readable.from(
        (async function* () {
          yield sent;
          for await (const c of body) yield c as Buffer;
        })(),
        { objectMode: false },
      );
      this.check(st, sent.subarray(0, max));
    };
    const onEnd = (): void => {
      cleanup();
      const all = Buffer.concat(st.chunks);
      if (st.req.headers['content-length'] === undefined)
        st.req.headers['content-length'] = String(all.length);
      st.req.body = Readable.from([all], { objectMode: false });
      this.check(st, all);
    };
    const cleanup = (): void => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
    };
    body.on('data', onData);
    body.once('end', onEnd);
  }

  private check(st: CheckState, body: Buffer | null): void {
    if (st.req.done || st.req.filterState[this.slot] !== st) return;
    st.checking = true;
    const c = this.config;
    const p = c.kind === 'grpc' ? grpcCheck(c, st.req, body) : httpCheck(c, st.req, body);
    p.then(
      (r) => this.finish(st, r),
      (e) => this.finish(st, { kind: 'error', reason: String((e as Error)?.message ?? e) }),
    );
  }

  private finish(st: CheckState, r: CheckResult): void {
    const req = st.req;
    // The stream may have ended (client reset, timeout) while the authorizer was asked.
    if (req.done || req.filterState[this.slot] !== st) return;
    switch (r.kind) {
      case 'ok': {
        this.stats.ok.inc();
        for (const e of r.upstream) applyEdit(req.headers, e);
        for (const h of r.remove) if (h !== 'host' && !h.startsWith(':')) delete req.headers[h];
        st.downstream = r.downstream;
        req.continueDecoding();
        return;
      }
      case 'denied': {
        this.stats.denied.inc();
        this.release(req);
        req.responseFlags |= Flag.UAEX;
        req.responseCodeDetails = 'ext_authz_denied';
        const h: HeaderMap = {};
        for (const e of r.headers) applyEdit(h, e);
        req.sendResponse(r.status, h, r.body);
        return;
      }
      case 'error': {
        this.stats.error.inc();
        if (this.config.failureModeAllow) {
          this.stats.failureModeAllowed.inc();
          req.continueDecoding();
          return;
        }
        this.release(req);
        req.sendReply({
          status: this.config.statusOnError,
          flag: Flag.UAEX,
          body: '',
          details: `ext_authz_error{${r.reason.replace(/\s+/g, '_').slice(0, 120)}}`,
          overloaded: false,
        });
      }
    }
  }

  readonly encodeHeaders = (req: ActiveRequest, _status: number, headers: HeaderMap): void => {
    const st = req.filterState[this.slot] as CheckState | null;
    if (st === null) return;
    for (const e of st.downstream) applyEdit(headers, e);
  };

  private release(req: ActiveRequest): void {
    req.filterState[this.slot] = null;
  }

  readonly onDestroy = (req: ActiveRequest): void => {
    const st = req.filterState[this.slot] as CheckState | null;
    if (st === null) return;
    req.filterState[this.slot] = null;
    if (!st.checking && st.body !== null) st.body.removeAllListeners('data');
  };
}

function extAuthzStats(ctx: FilterContext, prefix: string): ExtAuthzStats {
  const s = ctx.scope;
  const p = `${prefix}ext_authz.`;
  return {
    ok: s.counter(`${p}ok`),
    denied: s.counter(`${p}denied`),
    error: s.counter(`${p}error`),
    failureModeAllowed: s.counter(`${p}failure_mode_allowed`),
  };
}

/** Factory for `envoy.filters.http.ext_authz` (per route: ExtAuthzPerRoute `disabled: true`). */
export const extAuthzFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.ext_authz', 'envoy.ext_authz'],
  configTypes: ['envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'],
  create: (name, cfg, ctx) => {
    const c = new ExtAuthzConfig(cfg as ExtAuthz);
    return new ExtAuthzFilter(name, c, extAuthzStats(ctx, c.statPrefix), ctx);
  },
  compilePerRoute: (cfg) => {
    if ((cfg as ExtAuthzPerRoute | undefined)?.disabled === true) return DISABLED;
    throw new Error('ext_authz per-route check_settings are not supported; only disabled: true');
  },
};
