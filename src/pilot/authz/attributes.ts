// One AuthorizationPolicy attribute (source field, operation field or `when` key) → Envoy RBAC
// permission or principal, as Istio's authz model generators translate it.
import type {
  envoy_config_core_v3_CidrRange as CidrRange,
  envoy_config_rbac_v3_Permission as Permission,
  envoy_config_rbac_v3_Principal as Principal,
  envoy_type_matcher_v3_StringMatcher as StringMatcher,
  envoy_type_matcher_v3_ValueMatcher as ValueMatcher,
} from '../../xds/envoy-types.js';
import { anyOf, TYPES } from '../envoy.js';
import {
  headerMatcher,
  jwtClaimMatcher,
  jwtStringClaimMatcher,
  quoteRegex,
  regexMatcher,
  stringMatcher,
  stringOrMatcher,
} from './string-matchers.js';

/** Thrown for an HTTP-only attribute on a TCP filter chain (drops an ALLOW rule, ignored in DENY/AUDIT). */
export class HttpOnlyError extends Error {}

/** Which side of an RBAC policy an attribute becomes. */
export type Side = 'permission' | 'principal';

/** An RBAC Permission or Principal: which one is the attribute's `side`. */
export type RbacMatcher = Permission | Principal;

/** Translates one attribute; `values` are OR-ed (extended attributes take them all at once). */
export interface Attribute {
  readonly side: Side;
  /** Builds the matcher for one value (or all values for `extended`). */
  build(key: string, values: readonly string[], forTCP: boolean): RbacMatcher;
  /** True when `build` takes every value at once (JWT attributes). */
  readonly extended: boolean;
}

function cidr(v: string): CidrRange {
  const [addr, len] = v.split('/');
  const max = addr.includes(':') ? 128 : 32;
  const n = len === undefined ? max : Number(len);
  return n === 0 ? { addressPrefix: addr } : { addressPrefix: addr, prefixLen: { value: n } };
}

function httpOnly(key: string, forTCP: boolean): void {
  if (forTCP) throw new HttpOnlyError(`"${key}" is HTTP only`);
}

const simple = (side: Side, one: (key: string, v: string, forTCP: boolean) => RbacMatcher): Attribute => ({
  side,
  extended: false,
  build: (key, values, forTCP) => {
    const each = values.map((v) => one(key, v, forTCP));
    return side === 'permission' ? { orRules: { rules: each } } : { orIds: { ids: each } };
  },
});

const extended = (
  build: (key: string, values: readonly string[], forTCP: boolean) => RbacMatcher,
): Attribute => ({
  side: 'principal',
  extended: true,
  build,
});

/** Istio's path template check: `{*}` or `{**}` present. */
function isPathTemplate(p: string): boolean {
  return p.includes('{*}') || p.includes('{**}');
}

/** The name inside `prefix[name]`. */
function bracketName(key: string, prefix: string): string {
  return key.slice(prefix.length + 1, -1);
}

/** `request.auth.claims[a][b]` → ['a', 'b']; `request.auth.claims[a.b]` → ['a.b']. */
export function claimPath(key: string): string[] {
  const s = key.slice('request.auth.claims'.length);
  const nested = /^(\[[^[\]]+\])+$/.test(s);
  return nested ? s.slice(1, -1).split('][') : [s.slice(1, -1)];
}

function requestPrincipal(values: readonly string[]): Principal {
  const any = regexMatcher('.+');
  const ors = values.map((value) => {
    const idx = value.lastIndexOf('/');
    const found = idx >= 0;
    const iss = found ? value.slice(0, idx) : value;
    const sub = found ? value.slice(idx + 1) : '';
    let mi: StringMatcher;
    let ms: StringMatcher;
    if (value === '*') [mi, ms] = [any, any];
    else if (value.startsWith('*')) {
      if (found) [mi, ms] = [iss === '*' ? any : { suffix: iss.slice(1) }, { exact: sub }];
      else [mi, ms] = [any, { suffix: value.slice(1) }];
    } else if (value.endsWith('*')) {
      if (found) [mi, ms] = [{ exact: iss }, sub === '*' ? any : { prefix: sub.slice(0, -1) }];
      else [mi, ms] = [{ prefix: value.slice(0, -1) }, any];
    } else [mi, ms] = [{ exact: iss }, { exact: sub }];
    return {
      andIds: {
        ids: [{ metadata: jwtStringClaimMatcher('iss', mi) }, { metadata: jwtStringClaimMatcher('sub', ms) }],
      },
    };
  });
  return ors.length === 1 ? ors[0] : { orIds: { ids: ors } };
}

/** Attributes by source/operation field or `when` key. */
export const ATTRIBUTES: Record<string, Attribute> = {
  'destination.ip': simple('permission', (_k, v) => ({ destinationIp: cidr(v) })),
  'destination.port': simple('permission', (_k, v) => ({ destinationPort: Number(v) })),
  'connection.sni': simple('permission', (_k, v) => ({ requestedServerName: stringMatcher(v) })),
  'source.ip': simple('principal', (_k, v) => ({ directRemoteIp: cidr(v) })),
  'remote.ip': simple('principal', (_k, v) => ({ remoteIp: cidr(v) })),
  'source.namespace': simple('principal', (_k, v) => ({
    authenticated: {
      principalName: regexMatcher(`.*/ns/${v.split('*').map(quoteRegex).join('.*')}/.*`),
    },
  })),
  'source.principal': simple('principal', (_k, v) => ({
    authenticated: { principalName: stringMatcher(v, 'spiffe://') },
  })),
  'request.auth.principal': extended((k, values, forTCP) => {
    httpOnly(k, forTCP);
    return requestPrincipal(values);
  }),
  'request.auth.audiences': extended((k, values, forTCP) => {
    httpOnly(k, forTCP);
    return { metadata: jwtClaimMatcher(['aud'], stringOrMatcher(values)) };
  }),
  'request.auth.presenter': extended((k, values, forTCP) => {
    httpOnly(k, forTCP);
    return { metadata: jwtClaimMatcher(['azp'], stringOrMatcher(values)) };
  }),
  'request.auth.claims': extended((k, values, forTCP) => {
    httpOnly(k, forTCP);
    return { metadata: jwtClaimMatcher(claimPath(k), stringOrMatcher(values)) };
  }),
  'request.headers': simple('principal', (k, v, forTCP) => {
    httpOnly(k, forTCP);
    return { header: headerMatcher(bracketName(k, 'request.headers'), v) };
  }),
  ':authority': simple('permission', (k, v, forTCP) => {
    httpOnly('hosts', forTCP);
    return { header: headerMatcher(k, v, true) };
  }),
  ':method': simple('permission', (k, v, forTCP) => {
    httpOnly('methods', forTCP);
    return { header: headerMatcher(k, v) };
  }),
  'path-matcher': simple('permission', (_k, v, forTCP) => {
    httpOnly('paths', forTCP);
    if (isPathTemplate(v))
      return {
        uriTemplate: {
          name: 'uri-template',
          typedConfig: anyOf(TYPES.URI_TEMPLATE, {
            pathTemplate: v.replace(/\{\*\*\}/g, '**').replace(/\{\*\}/g, '*'),
          }),
        },
      };
    return { urlPath: { path: stringMatcher(v) } };
  }),
  'experimental.envoy.filters': {
    side: 'permission',
    extended: true,
    build: (key, values) => {
      const inner = key.slice('experimental.'.length, -1);
      const open = inner.indexOf('[');
      const filter = inner.slice(0, open);
      const name = inner.slice(open + 1);
      const ms: ValueMatcher[] = values.map((v) =>
        v.startsWith('[') && v.endsWith(']')
          ? { listMatch: { oneOf: { stringMatch: stringMatcher(v.slice(1, -1)) } } }
          : { stringMatch: stringMatcher(v) },
      );
      return {
        metadata: {
          filter,
          path: [{ key: name }],
          value: ms.length === 1 ? ms[0] : { orMatch: { valueMatchers: ms } },
        },
      };
    },
  },
};

/** `source.serviceAccount` values (`ns/name` or `name` in the policy namespace). */
export function serviceAccountAttribute(policyNamespace: string): Attribute {
  return simple('principal', (_k, v) => {
    const i = v.indexOf('/');
    const [ns, sa] = i >= 0 ? [v.slice(0, i), v.slice(i + 1)] : [policyNamespace, v];
    return {
      authenticated: {
        principalName: regexMatcher(`spiffe://.+/ns/${quoteRegex(ns)}/(.+/|)sa/${quoteRegex(sa)}(/.+)?`),
      },
    };
  });
}

/** The attribute for a `when` key, or undefined for keys Istio does not know. */
export function attributeForKey(key: string): Attribute | undefined {
  if (ATTRIBUTES[key] && !key.startsWith(':') && key !== 'path-matcher') return ATTRIBUTES[key];
  if (key.startsWith('request.headers[')) return ATTRIBUTES['request.headers'];
  if (key.startsWith('request.auth.claims[')) return ATTRIBUTES['request.auth.claims'];
  if (key.startsWith('experimental.envoy.filters.')) return ATTRIBUTES['experimental.envoy.filters'];
  return undefined;
}
