// envoy.filters.network.ext_authz: before a TCP connection is proxied, asks the gRPC authorization
// service (envoy.service.auth.v3.Authorization/Check) about it — source and destination addresses, the
// peer's principal, SNI — and closes it when denied (flag UAEX). Istio's CUSTOM action on TCP ports: a
// shadow network RBAC marks the connections a CUSTOM rule matches, and filter_enabled_metadata limits
// the check to them. Stats under `<stat_prefix>ext_authz.`, as Envoy's.
import type { envoy_extensions_filters_network_ext_authz_v3_ExtAuthz as ExtAuthzConfig } from '../../xds/envoy-types.js';
import type { SnapshotSource } from '../config/snapshot.js';
import type { ConnectionInfo } from '../http/active-request.js';
import { callCluster, CallError } from '../http/filters/ext-authz/cluster-call.js';
import { checkResult, frame } from '../http/filters/ext-authz/grpc-check.js';
import { splitAddress } from '../rbac/rbac-input.js';
import { MetadataMatcher, type DynamicMetadata } from '../rbac/value-matcher.js';
import type { Counter, Gauge, StatsStore } from '../stats/stats-store.js';
import { durationMs } from '../util/values.js';
import { encodeMessage, decodeMessage } from '../../xds/protos.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const CHECK_REQUEST = 'envoy.service.auth.v3.CheckRequest';
const CHECK_RESPONSE = 'envoy.service.auth.v3.CheckResponse';
/** Envoy's default gRPC check timeout (200 ms). */
const DEFAULT_TIMEOUT_MS = 200;
/** CheckResponses are small; a larger reply is a check error. */
const MAX_RESPONSE_BYTES = 1 << 20;
/** Fields of the v3 network ExtAuthz this proxy does not implement (refused, never ignored). */
const UNSUPPORTED = ['includePeerCertificate', 'bootstrapMetadataLabelsKey', 'includeTlsSession'] as const;

/** What a check concluded. */
export type CheckOutcome = 'ok' | 'denied' | 'error' | 'failure_mode_allowed';

/** A compiled envoy.extensions.filters.network.ext_authz.v3.ExtAuthz. Immutable. */
export class NetworkExtAuthz {
  readonly cluster: string;
  readonly authority: string;
  readonly timeoutMs: number;
  readonly failureModeAllow: boolean;
  /** Only connections whose dynamic metadata match are checked (Istio's CUSTOM gate); null = all. */
  readonly enabledMetadata: MetadataMatcher | null;
  private readonly total: Counter;
  private readonly ok: Counter;
  private readonly denied: Counter;
  private readonly error: Counter;
  private readonly failureModeAllowed: Counter;
  private readonly disabled: Counter;
  private readonly cxClosed: Counter;
  private readonly active: Gauge;

  constructor(
    c: ExtAuthzConfig | null | undefined,
    store: StatsStore,
    private readonly source: SnapshotSource,
  ) {
    for (const f of UNSUPPORTED) {
      const v = c?.[f];
      if (v !== undefined && v !== false && v !== '') throw new Error(`${f} is not supported by this proxy`);
    }
    const g = c?.grpcService;
    if (!g) throw new Error('grpc_service is required');
    if (g.googleGrpc) throw new Error('grpc_service.google_grpc is not supported; use envoy_grpc');
    if (g.initialMetadata?.length) throw new Error('grpc_service.initial_metadata is not supported');
    this.cluster = g.envoyGrpc?.clusterName ?? '';
    if (this.cluster === '') throw new Error('grpc_service.envoy_grpc.cluster_name is required');
    this.authority = g.envoyGrpc?.authority || this.cluster;
    this.timeoutMs = durationMs(g.timeout, DEFAULT_TIMEOUT_MS);
    this.failureModeAllow = c?.failureModeAllow === true;
    this.enabledMetadata = c?.filterEnabledMetadata ? new MetadataMatcher(c.filterEnabledMetadata) : null;
    const prefix = c?.statPrefix ?? '';
    const s = store.scope(`${prefix}ext_authz.`, `${prefix}ext_authz.`, []);
    this.total = s.counter('total');
    this.ok = s.counter('ok');
    this.denied = s.counter('denied');
    this.error = s.counter('error');
    this.failureModeAllowed = s.counter('failure_mode_allowed');
    this.disabled = s.counter('disabled');
    this.cxClosed = s.counter('cx_closed');
    this.active = s.gauge('active');
  }

  /** True when this connection is to be checked (its metadata pass filter_enabled_metadata). */
  applies(md: DynamicMetadata | null): boolean {
    if (this.enabledMetadata === null || this.enabledMetadata.match(md)) return true;
    this.disabled.inc();
    return false;
  }

  /** Checks one connection; never rejects. 'ok' and 'failure_mode_allowed' let it through. */
  async check(info: ConnectionInfo): Promise<CheckOutcome> {
    this.total.inc();
    this.active.inc();
    try {
      const r = await this.ask(info);
      if (r === 'ok') this.ok.inc();
      else if (r === 'denied') this.denied.inc();
      else {
        this.error.inc();
        if (this.failureModeAllow) {
          this.failureModeAllowed.inc();
          return 'failure_mode_allowed';
        }
      }
      if (r !== 'ok') this.cxClosed.inc();
      return r;
    } finally {
      this.active.dec();
    }
  }

  private async ask(info: ConnectionInfo): Promise<'ok' | 'denied' | 'error'> {
    let payload: Buffer;
    try {
      payload = frame(encodeMessage(CHECK_REQUEST, checkRequest(info)));
    } catch {
      return 'error';
    }
    const res = await callCluster(this.source.current.cluster(this.cluster), {
      method: 'POST',
      path: CHECK_PATH,
      authority: this.authority,
      headers: { 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${this.timeoutMs}m` },
      body: payload,
      timeoutMs: this.timeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      requireH2: true,
    });
    if (res instanceof CallError || res.status !== 200) return 'error';
    if ((res.trailers['grpc-status'] ?? res.headers['grpc-status']) !== '0') return 'error';
    const b = res.body;
    if (b.length < 5 || b[0] !== 0 || b.readUInt32BE(1) !== b.length - 5) return 'error';
    try {
      return checkResult(decodeMessage(CHECK_RESPONSE, b.subarray(5))).kind === 'ok' ? 'ok' : 'denied';
    } catch {
      return 'error';
    }
  }
}

function socketAddress(addr: string): Record<string, unknown> {
  const { ip, port } = splitAddress(addr);
  return { socketAddress: { address: ip, portValue: port } };
}

/** The CheckRequest of a TCP connection, as Envoy's network filter fills it (no request attributes). */
export function checkRequest(info: ConnectionInfo): Record<string, unknown> {
  const source: Record<string, unknown> = { address: socketAddress(info.remoteAddress) };
  if (info.peerPrincipal) source.principal = info.peerPrincipal;
  const attributes: Record<string, unknown> = {
    source,
    destination: { address: socketAddress(info.localAddress) },
  };
  if (info.sni) attributes.tlsSession = { sni: info.sni };
  return { attributes };
}
