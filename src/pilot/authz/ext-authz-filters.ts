// AuthorizationPolicy CUSTOM → Envoy filters, as istiod builds them: per provider an RBAC filter whose
// shadow rules (stat prefix istio_ext_authz_) mark the requests a CUSTOM rule matches in dynamic
// metadata, then envoy.filters.http.ext_authz gated on that metadata, so only those requests are
// checked. A provider that cannot be used (unknown, invalid, several per workload) becomes DENY rules
// for what its policies match (fail closed); `customWarnings` says why for the server log.
import type { AuthorizationPolicy } from '../../api/kinds/security/authorization-policy.js';
import { outboundClusterName, type Envoy } from '../envoy.js';
import type { PushContext } from '../push-context.js';
import type { ExtAuthzProvider } from './ext-authz-provider.js';
import { HttpOnlyError } from './attributes.js';
import { HTTP_RBAC, isDryRun, NETWORK_RBAC, rbacPolicyName } from './rbac-filters.js';
import { buildRbacPolicy } from './rbac-policy.js';

export const HTTP_EXT_AUTHZ = 'envoy.filters.http.ext_authz';
const HTTP_EXT_AUTHZ_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
const HTTP_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
export const NETWORK_EXT_AUTHZ = 'envoy.filters.network.ext_authz';
const NETWORK_EXT_AUTHZ_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz';

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

function stringList(names: readonly string[]): Envoy | undefined {
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

function enabledMetadata(filter: string, provider: string): Envoy {
  return {
    filter,
    path: [{ key: `${EXT_AUTHZ_SHADOW_PREFIX}shadow_effective_policy_id` }],
    value: { stringMatch: { prefix: `${MATCH_PREFIX}-${provider}` } },
  };
}

function seconds(ms: number): Envoy {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** The typed config of envoy.filters.http.ext_authz for a resolved provider. */
export function buildHttpExtAuthz(r: Resolved): Envoy {
  const p = r.provider;
  const c: Envoy = {
    '@type': HTTP_EXT_AUTHZ_TYPE,
    transportApiVersion: 'V3',
    filterEnabledMetadata: enabledMetadata(HTTP_RBAC, p.name),
  };
  if (p.statusOnError) c.statusOnError = { code: p.statusOnError };
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
  const service: Envoy = {
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
    const res: Envoy = {};
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
export function buildNetworkExtAuthz(r: Resolved): Envoy {
  const p = r.provider;
  const c: Envoy = {
    '@type': NETWORK_EXT_AUTHZ_TYPE,
    statPrefix: 'tcp.',
    transportApiVersion: 'V3',
    filterEnabledMetadata: enabledMetadata(NETWORK_RBAC, p.name),
    grpcService: {
      envoyGrpc: { clusterName: r.cluster, authority: r.hostname },
      timeout: seconds(p.timeoutMs),
    },
  };
  if (p.failOpen) c.failureModeAllow = true;
  return c;
}

/** The RBAC policies of one provider's CUSTOM rules, named as Istio names them. */
function customRules(
  policies: readonly AuthorizationPolicy[],
  provider: string,
  forTCP: boolean,
): Record<string, Envoy> {
  const out: Record<string, Envoy> = {};
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

function badCustom(rules: Record<string, Envoy>): Envoy {
  const policies: Record<string, Envoy> = {};
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
): { http: Envoy[]; tcp: Envoy[] } {
  const http: Envoy[] = [];
  const tcp: Envoy[] = [];
  const groups = byProvider(policies);
  // Istio allows one provider per workload unless PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS is on.
  const several = groups.length > 1;
  for (const [name, ps] of groups) {
    const httpRules = customRules(ps, name, false);
    const tcpRules = customRules(ps, name, true);
    const r = several ? 'several providers' : resolveProvider(push, name);
    if (typeof r === 'string') {
      http.push({ name: HTTP_RBAC, typedConfig: { '@type': HTTP_RBAC_TYPE, rules: badCustom(httpRules) } });
      tcp.push({
        name: NETWORK_RBAC,
        typedConfig: { '@type': NETWORK_RBAC_TYPE, statPrefix: 'tcp.', rules: badCustom(tcpRules) },
      });
      continue;
    }
    http.push(
      {
        name: HTTP_RBAC,
        typedConfig: {
          '@type': HTTP_RBAC_TYPE,
          shadowRules: { action: 'DENY', policies: httpRules },
          shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX,
        },
      },
      { name: HTTP_EXT_AUTHZ, typedConfig: buildHttpExtAuthz(r) },
    );
    // A gRPC provider also checks TCP connections (Envoy's network ext_authz, gated the same way by a
    // shadow network RBAC); HTTP providers leave TCP chains alone, as in Istio.
    if (r.provider.kind === 'grpc')
      tcp.push(
        {
          name: NETWORK_RBAC,
          typedConfig: {
            '@type': NETWORK_RBAC_TYPE,
            statPrefix: 'tcp.',
            shadowRules: { action: 'DENY', policies: tcpRules },
            shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX,
          },
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
