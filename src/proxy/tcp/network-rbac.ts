// envoy.filters.network.rbac: checks a TCP connection against RBAC rules before it is proxied
// (denied → closed), with shadow rules for stats only; stats under `<stat_prefix>rbac.`.
import type { envoy_extensions_filters_network_rbac_v3_RBAC as NetworkRbacConfig } from '../../xds/envoy-types.js';
import type { ConnectionInfo } from '../http/active-request.js';
import { RbacAction, RbacEngine } from '../rbac/rbac-engine.js';
import { splitAddress, type RbacInput } from '../rbac/rbac-input.js';
import type { DynamicMetadata } from '../rbac/value-matcher.js';
import type { Counter, StatsStore } from '../stats/stats-store.js';

/** The dynamic metadata namespace the filter writes (shadow results, read by ext_authz's gate). */
export const NETWORK_RBAC_METADATA = 'envoy.filters.network.rbac';

/** The RbacInput of a TCP connection: no headers, path or metadata; remote = direct peer. */
class TcpRbacInput implements RbacInput {
  readonly directRemoteIp: string;
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  readonly sni: string;
  readonly peerPrincipal: string;
  readonly headers = null;
  readonly path = '';
  readonly metadata = null;

  constructor(info: ConnectionInfo) {
    this.directRemoteIp = info.remoteIp;
    this.remoteIp = info.remoteIp;
    const l = splitAddress(info.localAddress);
    this.localIp = l.ip;
    this.localPort = l.port;
    this.sni = info.sni;
    this.peerPrincipal = info.peerPrincipal;
  }
}

/** A compiled envoy.extensions.filters.network.rbac.v3.RBAC. Immutable. */
export class NetworkRbac {
  private readonly rules: RbacEngine | null;
  private readonly shadow: RbacEngine | null;
  private readonly allowed: Counter;
  private readonly denied: Counter;
  private readonly shadowAllowed: Counter;
  private readonly shadowDenied: Counter;
  private readonly shadowPolicyKey: string;
  private readonly shadowResultKey: string;

  constructor(c: NetworkRbacConfig | null | undefined, store: StatsStore) {
    if (c?.matcher || c?.shadowMatcher)
      throw new Error('the xDS matcher API of RBAC is not supported; use rules');
    // The connection is checked once, before it is proxied (Envoy's default ONE_TIME_ON_FIRST_BYTE).
    if (c?.enforcementType === 'CONTINUOUS')
      throw new Error(
        'enforcementType: CONTINUOUS is not supported by this proxy (connections are checked once)',
      );
    const prefix = c?.statPrefix ?? '';
    this.rules = c?.rules ? new RbacEngine(c.rules) : null;
    this.shadow = c?.shadowRules ? new RbacEngine(c.shadowRules) : null;
    const s = store.scope(`${prefix}rbac.`, `${prefix}rbac.`, []);
    this.allowed = s.counter('allowed');
    this.denied = s.counter('denied');
    const sp = c?.shadowRulesStatPrefix ?? '';
    this.shadowAllowed = s.counter(`${sp}shadow_allowed`);
    this.shadowDenied = s.counter(`${sp}shadow_denied`);
    this.shadowPolicyKey = `${sp}shadow_effective_policy_id`;
    this.shadowResultKey = `${sp}shadow_engine_result`;
  }

  /**
   * Checks one connection: '' when it may proceed, else the connection termination details
   * (`rbac_access_denied_matched_policy[...]`). Shadow results go into `md` as Envoy's filter
   * writes them (`<shadow prefix>shadow_effective_policy_id`, `..._engine_result`).
   */
  check(info: ConnectionInfo, md: DynamicMetadata): string {
    const input = new TcpRbacInput(info);
    if (this.shadow !== null) {
      const s = this.shadow.evaluate(input);
      (s.allowed ? this.shadowAllowed : this.shadowDenied).inc();
      const ns = (md[NETWORK_RBAC_METADATA] ??= {});
      ns[this.shadowPolicyKey] = s.policy;
      ns[this.shadowResultKey] = s.allowed ? 'allowed' : 'denied';
    }
    if (this.rules === null || this.rules.action === RbacAction.Log) return '';
    const d = this.rules.evaluate(input);
    if (d.allowed) {
      this.allowed.inc();
      return '';
    }
    this.denied.inc();
    return `rbac_access_denied_matched_policy[${d.policy || 'none'}]`;
  }
}
