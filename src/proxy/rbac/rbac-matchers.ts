// envoy.config.rbac.v3 Permission and Principal trees compiled once into predicates over RbacInput.
import type {
  envoy_config_rbac_v3_Permission as Permission,
  envoy_config_rbac_v3_Principal as Principal,
  envoy_config_route_v3_HeaderMatcher as HeaderMatcherConfig,
  envoy_extensions_path_match_uri_template_v3_UriTemplateMatchConfig as UriTemplateMatchConfig,
  envoy_type_matcher_v3_MetadataMatcher as MetadataMatcherConfig,
  envoy_type_matcher_v3_PathMatcher as PathMatcher,
} from '../../xds/envoy-types.js';
import { HeaderMatcher } from '../matchers/header-matcher.js';
import { StringMatcher } from '../matchers/string-matcher.js';
import { anyTypeName } from '../util/values.js';
import { CidrRange } from './cidr.js';
import type { RbacInput } from './rbac-input.js';
import { UriTemplate } from './uri-template.js';
import { MetadataMatcher } from './value-matcher.js';

/** A compiled permission or principal. */
export type Predicate = (input: RbacInput) => boolean;

const URI_TEMPLATE = 'envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig';

function all(ps: readonly Predicate[]): Predicate {
  return (x) => {
    for (let i = 0; i < ps.length; i++) if (!ps[i](x)) return false;
    return true;
  };
}

function some(ps: readonly Predicate[]): Predicate {
  return (x) => {
    for (let i = 0; i < ps.length; i++) if (ps[i](x)) return true;
    return false;
  };
}

function header(h: HeaderMatcherConfig): Predicate {
  const m = new HeaderMatcher(h);
  return (x) => x.headers !== null && m.match(x.headers);
}

function urlPath(p: PathMatcher): Predicate {
  if (!p?.path) throw new Error('url_path needs path');
  const m = new StringMatcher(p.path);
  return (x) => x.headers !== null && m.match(x.path);
}

function metadata(m: MetadataMatcherConfig): Predicate {
  const mm = new MetadataMatcher(m);
  return (x) => mm.match(x.metadata);
}

/** Compiles an envoy.config.rbac.v3.Permission. */
export function compilePermission(p: Permission | null | undefined): Predicate {
  if (p?.any === true) return () => true;
  if (p?.andRules) return all((p.andRules.rules ?? []).map(compilePermission));
  if (p?.orRules) return some((p.orRules.rules ?? []).map(compilePermission));
  if (p?.notRule) {
    const inner = compilePermission(p.notRule);
    return (x) => !inner(x);
  }
  if (p?.header) return header(p.header);
  if (p?.urlPath) return urlPath(p.urlPath);
  if (p?.destinationIp) {
    const c = new CidrRange(p.destinationIp);
    return (x) => c.contains(x.localIp);
  }
  if (p?.destinationPort !== undefined) {
    const port = Number(p.destinationPort);
    return (x) => x.localPort === port;
  }
  if (p?.destinationPortRange) {
    const s = Number(p.destinationPortRange.start ?? 0);
    const e = Number(p.destinationPortRange.end ?? 0);
    return (x) => x.localPort >= s && x.localPort < e;
  }
  if (p?.metadata) return metadata(p.metadata);
  if (p?.requestedServerName) {
    const m = new StringMatcher(p.requestedServerName);
    return (x) => m.match(x.sni);
  }
  if (p?.uriTemplate) {
    const t = anyTypeName(p.uriTemplate.typedConfig);
    if (t !== URI_TEMPLATE) throw new Error(`uri_template: unsupported extension ${t || '(none)'}`);
    const cfg = p.uriTemplate.typedConfig as UriTemplateMatchConfig | undefined;
    const u = new UriTemplate(cfg?.pathTemplate ?? '');
    return (x) => x.headers !== null && u.match(x.path);
  }
  throw new Error(`unsupported RBAC permission ${JSON.stringify(p)}`);
}

/** Compiles an envoy.config.rbac.v3.Principal. */
export function compilePrincipal(p: Principal | null | undefined): Predicate {
  if (p?.any === true) return () => true;
  if (p?.andIds) return all((p.andIds.ids ?? []).map(compilePrincipal));
  if (p?.orIds) return some((p.orIds.ids ?? []).map(compilePrincipal));
  if (p?.notId) {
    const inner = compilePrincipal(p.notId);
    return (x) => !inner(x);
  }
  if (p?.authenticated) {
    // No principal_name: any peer with a verified certificate.
    const m = p.authenticated.principalName ? new StringMatcher(p.authenticated.principalName) : null;
    return (x) => x.peerPrincipal !== '' && (m === null || m.match(x.peerPrincipal));
  }
  if (p?.directRemoteIp || p?.sourceIp) {
    const c = new CidrRange(p.directRemoteIp ?? p.sourceIp);
    return (x) => c.contains(x.directRemoteIp);
  }
  if (p?.remoteIp) {
    const c = new CidrRange(p.remoteIp);
    return (x) => c.contains(x.remoteIp);
  }
  if (p?.header) return header(p.header);
  if (p?.urlPath) return urlPath(p.urlPath);
  if (p?.metadata) return metadata(p.metadata);
  throw new Error(`unsupported RBAC principal ${JSON.stringify(p)}`);
}
