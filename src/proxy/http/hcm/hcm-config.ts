// Compiles an envoy.filters.network.http_connection_manager config: route source (RDS or inline),
// HTTP filter chain, access logs, header policies, stats and the upgrade (WebSocket) policy.
import { XfccConfig } from './xfcc.js';
import { AccessLog, compileAccessLogs } from '../access-log/access-log.js';
import type { HttpFilter, NodeInfo } from '../filters/filter.js';
import { compilePerRoute, findFactory, isIgnorable, knownFilterNames } from '../filters/registry.js';
import { RouteTable } from '../route/route-table.js';
import type { StatsStore } from '../../stats/stats-store.js';
import type { SnapshotSource } from '../../config/snapshot.js';
import { boolValue, durationMs, u32 } from '../../util/values.js';
import { HcmStats } from './hcm-stats.js';
import { compileCodecOptions, type CodecOptions } from './codec-options.js';
import { compilePathNormalizer, type PathNormalizer } from './path-normalization.js';
import type { SecretLookup } from '../../tls/secret-manager.js';
import { compileTracer } from '../../tracing/tracing-provider.js';
import type { Tracer } from '../../tracing/tracer.js';
import type {
  envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpFilter as HttpFilterEntry,
} from '../../../xds/envoy-types.js';

/** Server header handling (HCM server_header_transformation). */
export const enum ServerHeader {
  Overwrite = 0,
  AppendIfAbsent = 1,
  PassThrough = 2,
}

/** Options from the proxy that apply to every HCM. */
export interface HcmContext {
  readonly store: StatsStore;
  readonly source: SnapshotSource;
  /** Access logs to use when the HCM has none (the `--access-log` flag), or null. */
  readonly defaultAccessLogs: AccessLog[] | null;
  /** SDS secrets for listener TLS contexts, or null when the proxy has no secret store. */
  readonly secrets?: SecretLookup | null;
  /** The proxy's node, for filters that report it (istio.stats). */
  readonly node?: NodeInfo | null;
  /** The listener's traffic_direction (INBOUND HCMs make SERVER spans); absent = unspecified. */
  readonly trafficDirection?: string;
}

/** A compiled HTTP connection manager. Immutable; a listener update builds a new one. */
export class HcmConfig {
  readonly statPrefix: string;
  readonly serverName: string;
  readonly serverHeader: ServerHeader;
  /** RDS route configuration name, or null when the route config is inline. */
  readonly rdsName: string | null;
  readonly staticTable: RouteTable | null;
  readonly filters: readonly HttpFilter[];
  /** Filters with an encodeHeaders hook, in reverse order (Envoy encodes last-to-first). */
  readonly encodeFilters: readonly HttpFilter[] | null;
  readonly destroyFilters: readonly HttpFilter[] | null;
  readonly accessLogs: readonly AccessLog[] | null;
  readonly stats: HcmStats;
  /** WebSocket upgrades allowed (upgrade_configs has `websocket`). */
  readonly websocket: boolean;
  readonly useRemoteAddress: boolean;
  /** x-forwarded-client-cert handling. */
  readonly xfcc: XfccConfig;
  readonly skipXffAppend: boolean;
  readonly xffNumTrustedHops: number;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  /** AUTO, HTTP1 or HTTP2. */
  readonly codec: string;
  /** Idle timeout of a stream in ms (Envoy default 5 min); 0 = none. */
  readonly streamIdleTimeoutMs: number;
  /** Strip any :port from the Host before virtual host matching. */
  readonly stripAnyHostPort: boolean;
  /** normalize_path / merge_slashes / path_with_escaped_slashes_action, or null when all are off. */
  readonly pathNormalizer: PathNormalizer | null;
  /** Header limits, HTTP/1.0 policy and connection/request timeouts. */
  readonly codecOptions: CodecOptions;
  /** The HCM's tracer (`tracing`), or null when the HCM does not trace. */
  readonly tracer: Tracer | null;

  constructor(
    /** The canonical HttpConnectionManager. */
    readonly config: HttpConnectionManager,
    readonly ctx: HcmContext,
  ) {
    this.statPrefix = String(config.statPrefix ?? '');
    this.serverName = config.serverName ? String(config.serverName) : 'envoy';
    const sht = String(config.serverHeaderTransformation ?? 'OVERWRITE');
    this.serverHeader =
      sht === 'APPEND_IF_ABSENT'
        ? ServerHeader.AppendIfAbsent
        : sht === 'PASS_THROUGH'
          ? ServerHeader.PassThrough
          : ServerHeader.Overwrite;
    this.stats = new HcmStats(ctx.store, this.statPrefix);
    if (config.rds) {
      this.rdsName = String(config.rds.routeConfigName ?? '');
      if (!this.rdsName) throw new Error('rds.routeConfigName: required');
      this.staticTable = null;
    } else if (config.routeConfig) {
      // Virtual hosts come by VHDS only into a route configuration that came by RDS (the config manager
      // merges them); an inline one would wait for them forever.
      if (config.routeConfig.vhds)
        throw new Error('routeConfig.vhds: VHDS is supported only for route configurations that come by RDS');
      this.rdsName = null;
      this.staticTable = new RouteTable(config.routeConfig, compilePerRoute);
    } else throw new Error('needs rds or routeConfig (scoped routes are not supported)');
    this.filters = this.buildFilters(config.httpFilters ?? []);
    const enc = this.filters.filter((f) => f.encodeHeaders !== null).reverse();
    this.encodeFilters = enc.length > 0 ? enc : null;
    const des = this.filters.filter((f) => f.onDestroy !== null);
    this.destroyFilters = des.length > 0 ? des : null;
    this.accessLogs = compileAccessLogs(config.accessLog) ?? ctx.defaultAccessLogs;
    this.websocket = (config.upgradeConfigs ?? []).some(
      (u) => String(u.upgradeType ?? '').toLowerCase() === 'websocket' && boolValue(u.enabled, true),
    );
    this.useRemoteAddress = boolValue(config.useRemoteAddress, false);
    this.skipXffAppend = config.skipXffAppend === true;
    this.xffNumTrustedHops = u32(config.xffNumTrustedHops, 0);
    this.generateRequestId = boolValue(config.generateRequestId, true);
    this.preserveExternalRequestId = config.preserveExternalRequestId === true;
    this.codec = String(config.codecType ?? 'AUTO');
    this.streamIdleTimeoutMs = durationMs(config.streamIdleTimeout, 300_000);
    this.stripAnyHostPort = config.stripAnyHostPort === true;
    this.pathNormalizer = compilePathNormalizer(config);
    this.codecOptions = compileCodecOptions(config);
    this.xfcc = new XfccConfig(config);
    this.tracer = compileTracer(config, ctx);
  }

  /** The route table for a new request (from the current snapshot for RDS), or null if not yet received. */
  routeTable(): RouteTable | null {
    return this.staticTable ?? this.ctx.source.current.routeTable(this.rdsName!) ?? null;
  }

  private buildFilters(list: readonly HttpFilterEntry[]): HttpFilter[] {
    const out: HttpFilter[] = [];
    list.forEach((f, i) => {
      const name = String(f.name ?? '');
      const factory = findFactory(name, f.typedConfig);
      if (!factory) {
        if (f.isOptional === true || isIgnorable(name) || f.disabled === true) return;
        throw new Error(
          `httpFilters[${i}] (${name}): unknown HTTP filter${f.typedConfig?.['@type'] ? ` (type ${f.typedConfig['@type']})` : ''}; ` +
            `this proxy implements ${knownFilterNames().join(', ')}; set is_optional: true on it to skip it`,
        );
      }
      if (f.disabled === true) return;
      try {
        out.push(
          factory.create(name, f.typedConfig ?? {}, {
            scope: this.stats.scope,
            slot: out.length,
            node: this.ctx.node ?? null,
          }),
        );
      } catch (e) {
        throw new Error(`httpFilters[${i}] (${name}): ${(e as Error).message}`);
      }
    });
    if (out.length === 0 || !routerFactory(out[out.length - 1])) {
      throw new Error('httpFilters: the last filter must be envoy.filters.http.router');
    }
    return out;
  }
}

function routerFactory(f: HttpFilter): boolean {
  return (f as { isRouter?: boolean }).isRouter === true;
}
