// AuthorizationPolicy CUSTOM → Envoy filters, as istiod builds them: per provider an RBAC filter whose
// shadow rules (stat prefix istio_ext_authz_) mark the requests a CUSTOM rule matches in dynamic
// metadata, then envoy.filters.http.ext_authz gated on that metadata, so only those requests are
// checked. A provider that cannot be used (unknown, invalid, several per workload) becomes DENY rules
// for what its policies match (fail closed); `customWarnings` says why for the server log.
import type { AuthorizationPolicy } from '../../api/kinds/security/authorization-policy.js';
import { envoyRoot } from '../../xds/protos.js';
import type {
  AnyMessageOf,
  Duration,
  envoy_config_listener_v3_Filter as Filter,
  envoy_config_rbac_v3_Policy as Policy,
  envoy_config_rbac_v3_RBAC as Rbac,
  envoy_extensions_filters_http_ext_authz_v3_AuthorizationResponse as AuthorizationResponse,
  envoy_extensions_filters_http_ext_authz_v3_ExtAuthz as HttpExtAuthz,
  envoy_extensions_filters_http_ext_authz_v3_HttpService as HttpService,
  envoy_extensions_filters_network_ext_authz_v3_ExtAuthz as NetworkExtAuthz,
  envoy_extensions_filters_network_http_connection_manager_v3_HttpFilter as HttpFilter,
  envoy_type_matcher_v3_ListStringMatcher as ListStringMatcher,
  envoy_type_matcher_v3_MetadataMatcher as MetadataMatcher,
  envoy_type_v3_HttpStatus as HttpStatus,
} from '../../xds/envoy-types.js';
import { anyOf, outboundClusterName, TYPES } from '../envoy.js';
import type { PushContext } from '../push-context.js';
import type { ExtAuthzProvider } from './ext-authz-provider.js';
import { HttpOnlyError } from './attributes.js';
import { HTTP_RBAC, isDryRun, NETWORK_RBAC, rbacPolicyName } from './rbac-filters.js';
import { buildRbacPolicy } from './rbac-policy.js';

export const HTTP_EXT_AUTHZ = 'envoy.filters.http.ext_authz';
export const NETWORK_EXT_AUTHZ = 'envoy.filters.network.ext_authz';

/** Istio's names: policies `istio-ext-authz-<provider>-ns[..]-policy[..]-rule[..]`, shadow stat prefix. */
const MATCH_PREFIX = 'istio-ext-authz';
export const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';
const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';

/** A provider usable for a proxy: its config and the outbound cluster of its service. */
interface Resolved {
  readonly provider: ExtAuthzProvider;
  readonly hostname: string;
  readonly cluster: string;
}

/** Istio's LookupCluster: `namespace/hostname`, or a hostname defined in exactly one namespace. */
export function resolveProvider(push: PushContext, name: string): Resolved | string {
  const p = push.mesh.extAuthz.providers.get(name);
  if (!p) {
    const known = [...push.mesh.extAuthz.providers.keys()];
    return `extension provider "${name}" is not defined in MeshConfig extensionProviders (ext_authz providers: ${known.join(', ') || 'none'})`;
  }
  if (p.error) return `extension provider "${name}": ${p.error}`;
  const slash = p.service.split('/');
  let hostname = '';
  if (slash.length === 2) {
    const svc = push.registry.servicesByHost(slash[1]).find((s) => s.namespace === slash[0]);
    if (svc) hostname = svc.hostname;
  } else {
    const list = push.registry.servicesByHost(p.service);
    const nss = [...new Set(list.map((s) => s.namespace))];
    if (nss.length > 1)
      return `extension provider "${name}": found ${p.service} in multiple namespaces ${nss.join(', ')}, specify the namespace explicitly in the format of <Namespace>/<Hostname>`;
    if (list.length > 0) hostname = list[0].hostname;
  }
  if (hostname === '')
    return `extension provider "${name}": could not find service ${p.service} in the service registry`;
  return { provider: p, hostname, cluster: outboundClusterName(p.port, '', hostname) };
}

function stringList(names: readonly string[]): ListStringMatcher | undefined {
  if (names.length === 0) return undefined;
  return {
    patterns: names.map((h) =>
      h.startsWith('*')
        ? { suffix: h.slice(1), ignoreCase: true }
        : h.endsWith('*')
          ? { prefix: h.slice(0, -1), ignoreCase: true }
          : { exact: h, ignoreCase: true },
    ),
  };
}

function enabledMetadata(filter: string, provider: string): MetadataMatcher {
  return {
    filter,
    path: [{ key: `${EXT_AUTHZ_SHADOW_PREFIX}shadow_effective_policy_id` }],
    value: { stringMatch: { prefix: `${MATCH_PREFIX}-${provider}` } },
  };
}

function seconds(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/**
 * status_on_error: Envoy's StatusCode enum by name where it has one (canonical form); any other HTTP
 * status as its number, as istiod casts it (an open proto3 enum: canonical form keeps unnamed values
 * as numbers, which the generated type, listing the names only, does not spell).
 */
function httpStatus(code: number): HttpStatus {
  const name = envoyRoot().lookupEnum('envoy.type.v3.StatusCode').valuesById[code];
  return name !== undefined ? { code: name as HttpStatus['code'] } : ({ code } as unknown as HttpStatus);
}

/** The typed config of envoy.filters.http.ext_authz for a resolved provider. */
export function buildHttpExtAuthz(r: Resolved): AnyMessageOf {
  return anyOf(TYPES.HTTP_EXT_AUTHZ, httpExtAuthz(r));
}

function httpExtAuthz(r: Resolved): HttpExtAuthz {
  const p = r.provider;
  const c: HttpExtAuthz = {
    transportApiVersion: 'V3',
    filterEnabledMetadata: enabledMetadata(HTTP_RBAC, p.name),
  };
  if (p.statusOnError) c.statusOnError = httpStatus(p.statusOnError);
  if (p.failOpen) c.failureModeAllow = true;
  const body = p.includeRequestBodyInCheck;
  if (body)
    c.withRequestBody = {
      maxRequestBytes: body.maxRequestBytes,
      allowPartialMessage: body.allowPartialMessage,
      packAsBytes: body.packAsBytes,
    };
  if (p.kind === 'grpc') {
    c.grpcService = {
      envoyGrpc: { clusterName: r.cluster, authority: r.hostname },
      timeout: seconds(p.timeoutMs),
    };
    return c;
  }
  const service: HttpService = {
    serverUri: { uri: `http://${r.hostname}`, cluster: r.cluster, timeout: seconds(p.timeoutMs) },
  };
  if (p.pathPrefix) service.pathPrefix = p.pathPrefix;
  const add = Object.keys(p.includeAdditionalHeadersInCheck).sort();
  if (add.length > 0)
    service.authorizationRequest = {
      headersToAdd: add.map((k) => ({ key: k, value: p.includeAdditionalHeadersInCheck[k] })),
    };
  const up = stringList(p.headersToUpstreamOnAllow);
  const deny = stringList(p.headersToDownstreamOnDeny);
  const allow = stringList(p.headersToDownstreamOnAllow);
  if (up || deny || allow) {
    const res: AuthorizationResponse = {};
    if (up) res.allowedUpstreamHeaders = up;
    if (deny) res.allowedClientHeaders = deny;
    if (allow) res.allowedClientHeadersOnSuccess = allow;
    service.authorizationResponse = res;
  }
  c.httpService = service;
  const headers = stringList(p.includeRequestHeadersInCheck);
  if (headers) c.allowedHeaders = headers;
  return c;
}

/** The typed config of envoy.filters.network.ext_authz (TCP chains; gRPC providers only, as in Istio). */
export function buildNetworkExtAuthz(r: Resolved): AnyMessageOf {
  const p = r.provider;
  const c: NetworkExtAuthz = {
    statPrefix: 'tcp.',
    transportApiVersion: 'V3',
    filterEnabledMetadata: enabledMetadata(NETWORK_RBAC, p.name),
    grpcService: {
      envoyGrpc: { clusterName: r.cluster, authority: r.hostname },
      timeout: seconds(p.timeoutMs),
    },
  };
  if (p.failOpen) c.failureModeAllow = true;
  return anyOf(TYPES.NETWORK_EXT_AUTHZ, c);
}

/** The RBAC policies of one provider's CUSTOM rules, named as Istio names them. */
function customRules(
  policies: readonly AuthorizationPolicy[],
  provider: string,
  forTCP: boolean,
): Record<string, Policy> {
  const out: Record<string, Policy> = {};
  for (const p of policies) {
    const ns = p.metadata.namespace ?? 'default';
    (p.spec?.rules ?? []).forEach((rule, i) => {
      try {
        out[`${MATCH_PREFIX}-${provider}-${rbacPolicyName(ns, p.metadata.name, i)}`] = buildRbacPolicy(
          rule,
          ns,
          forTCP,
          'DENY',
        );
      } catch (e) {
        if (!(e instanceof HttpOnlyError)) return;
      }
    });
  }
  return out;
}

function badCustom(rules: Record<string, Policy>): Rbac {
  const policies: Record<string, Policy> = {};
  for (const [k, v] of Object.entries(rules)) policies[k + BAD_CUSTOM_SUFFIX] = v;
  return { action: 'DENY', policies };
}

/** Enforced CUSTOM policies by provider name, providers sorted. */
function byProvider(policies: readonly AuthorizationPolicy[]): [string, AuthorizationPolicy[]][] {
  const m = new Map<string, AuthorizationPolicy[]>();
  for (const p of policies) {
    if ((p.spec?.action ?? 'ALLOW') !== 'CUSTOM' || isDryRun(p)) continue;
    const name = p.spec?.provider?.name ?? '';
    let l = m.get(name);
    if (!l) m.set(name, (l = []));
    l.push(p);
  }
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The CUSTOM filters of a proxy's HTTP and TCP chains (both empty when no CUSTOM policy applies). */
export function buildCustomFilters(
  policies: readonly AuthorizationPolicy[],
  push: PushContext,
): { http: HttpFilter[]; tcp: Filter[] } {
  const http: HttpFilter[] = [];
  const tcp: Filter[] = [];
  const groups = byProvider(policies);
  // Istio allows one provider per workload unless PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS is on.
  const several = groups.length > 1;
  for (const [name, ps] of groups) {
    const httpRules = customRules(ps, name, false);
    const tcpRules = customRules(ps, name, true);
    const r = several ? 'several providers' : resolveProvider(push, name);
    if (typeof r === 'string') {
      http.push({ name: HTTP_RBAC, typedConfig: anyOf(TYPES.HTTP_RBAC, { rules: badCustom(httpRules) }) });
      tcp.push({
        name: NETWORK_RBAC,
        typedConfig: anyOf(TYPES.NETWORK_RBAC, { statPrefix: 'tcp.', rules: badCustom(tcpRules) }),
      });
      continue;
    }
    http.push(
      {
        name: HTTP_RBAC,
        typedConfig: anyOf(TYPES.HTTP_RBAC, {
          shadowRules: { action: 'DENY', policies: httpRules },
          shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX,
        }),
      },
      { name: HTTP_EXT_AUTHZ, typedConfig: buildHttpExtAuthz(r) },
    );
    // A gRPC provider also checks TCP connections (Envoy's network ext_authz, gated the same way by a
    // shadow network RBAC); HTTP providers leave TCP chains alone, as in Istio.
    if (r.provider.kind === 'grpc')
      tcp.push(
        {
          name: NETWORK_RBAC,
          typedConfig: anyOf(TYPES.NETWORK_RBAC, {
            statPrefix: 'tcp.',
            shadowRules: { action: 'DENY', policies: tcpRules },
            shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX,
          }),
        },
        { name: NETWORK_EXT_AUTHZ, typedConfig: buildNetworkExtAuthz(r) },
      );
  }
  return { http, tcp };
}

/** One line per CUSTOM policy that cannot work as written (logged by the server). */
export function customWarnings(push: PushContext): string[] {
  const out: string[] = [...push.mesh.extAuthz.warnings];
  const policies = push.snapshot.byKind('AuthorizationPolicy') as AuthorizationPolicy[];
  for (const p of policies) {
    if (p.spec?.action !== 'CUSTOM') continue;
    const id = `AuthorizationPolicy ${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
    if (isDryRun(p)) {
      out.push(`${id}: istio.io/dry-run on a CUSTOM policy is not supported; the policy is not evaluated`);
      continue;
    }
    const r = resolveProvider(push, p.spec.provider?.name ?? '');
    if (typeof r === 'string') out.push(`${id}: ${r}; the requests its rules match are denied`);
  }
  return out;
}
