// AuthorizationPolicy (security.istio.io): which requests a workload allows, denies or audits.
import { obj, list, nonEmpty, enumOf, fieldAt, type At, type Checker, type Validator } from '../../schema.js';
import { isCidrOrIp } from '../../checks.js';
import { istioKind, ISTIO_VERSIONS } from '../../kind-helpers.js';
import type { SpecResource } from '../../resource.js';
import {
  checkOneTargetKind,
  policyTargetReference,
  workloadSelector,
  type PolicyTargetReference,
  type WorkloadSelector,
  warnWaypointOnly,
} from './policy-target.js';
import { checkConditionKey, checkConditionValues } from './conditions.js';
import { withDryRunCheck } from './dry-run.js';

/** What a matching policy does. CUSTOM delegates to an extension provider. */
export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

/** Who sends the request; every set field must match (AND), values within a field are OR. */
export interface Source {
  /** Peer identities (mTLS), e.g. "cluster.local/ns/default/sa/sleep"; "*" prefix/suffix wildcards. */
  principals?: string[];
  notPrincipals?: string[];
  /** JWT `iss/sub`, e.g. "issuer.example.com/subject". */
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  /** Peer namespaces (mTLS). */
  namespaces?: string[];
  notNamespaces?: string[];
  /** Peer service accounts as "ns/name" (Istio 1.24+). */
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  /** Source IPs or CIDRs of the connection. */
  ipBlocks?: string[];
  notIpBlocks?: string[];
  /** Original client IPs or CIDRs (X-Forwarded-For / proxy protocol). */
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

/** What the request asks for; every set field must match (AND), values within a field are OR. */
export interface Operation {
  /** Host (authority) values; HTTP only. */
  hosts?: string[];
  notHosts?: string[];
  /** Destination ports, as strings of numbers ("8080"). */
  ports?: string[];
  notPorts?: string[];
  /** HTTP methods (or gRPC: always POST); HTTP only. */
  methods?: string[];
  notMethods?: string[];
  /** Paths, with "*" prefix/suffix wildcards or `{*}`/`{**}` templates; HTTP only. */
  paths?: string[];
  notPaths?: string[];
}

/** `from` entry: one source. */
export interface RuleFrom {
  source: Source;
}

/** `to` entry: one operation. */
export interface RuleTo {
  operation: Operation;
}

/** An additional condition on a request attribute, e.g. `request.headers[version]`. */
export interface Condition {
  /** Attribute name; must be one of Istio's supported keys. */
  key: string;
  /** Allowed values (OR). */
  values?: string[];
  /** Values that must not match. */
  notValues?: string[];
}

/** One rule: from AND to AND when; the entries of each list are alternatives (OR). */
export interface Rule {
  from?: RuleFrom[];
  to?: RuleTo[];
  when?: Condition[];
}

/** The extension provider of a CUSTOM policy. */
export interface ExtensionProvider {
  /** Name of an extension provider in the mesh config. */
  name: string;
}

/** AuthorizationPolicy.spec. `spec: {}` with action ALLOW denies everything. */
export interface AuthorizationPolicySpec {
  /** Workloads this policy applies to; absent = the whole namespace. Exclusive with targetRef(s). */
  selector?: WorkloadSelector;
  /** Resource the policy attaches to (a Gateway or Service). */
  targetRef?: PolicyTargetReference;
  /** Resources the policy attaches to. */
  targetRefs?: PolicyTargetReference[];
  /** Rules; a request matching any rule triggers the action. */
  rules?: Rule[];
  /** Default ALLOW. */
  action?: AuthorizationAction;
  /** Required with action CUSTOM, forbidden otherwise. */
  provider?: ExtensionProvider;
}

/** An AuthorizationPolicy resource. */
export type AuthorizationPolicy = SpecResource<'AuthorizationPolicy', AuthorizationPolicySpec>;

// ---------- validation ----------

const ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;

/** Reports unless `s` is an IP address or CIDR block (source/remote/destination IPs). */
export function checkIpBlock(s: string, at: At, c: Checker): void {
  if (!isCidrOrIp(s))
    c.error(at, `must be an IP address or CIDR block such as "10.0.0.0/16", got ${JSON.stringify(s)}`);
}

/** Reports unless `s` is a decimal port number 1–65535 written as a string. */
export function checkPortString(s: string, at: At, c: Checker): void {
  const n = /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= 65535))
    c.error(at, `must be a port number between 1 and 65535 written as a string, got ${JSON.stringify(s)}`);
}

// A path segment Envoy's uri_template accepts as a literal (RFC 3986 pchar, as Istio checks).
const TEMPLATE_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/**
 * Path templates (Istio's rules): `{*}` is one segment, `{**}` the rest; `{` or `}` anywhere else
 * (named variables such as `{id}`, `{x=*}`, `{}`, `{**}bar`) is refused; in a template every other
 * segment is a literal (no bare `*`, `**` or `?`). `{**}` must be the last segment: Mizzen's matcher,
 * like Envoy's `**` operator, takes it only at the end.
 */
export function pathTemplateError(path: string): string | null {
  const isTemplate = path.includes('{*}') || path.includes('{**}');
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === '{**}') {
      if (i !== segments.length - 1) return '{**} must be the last segment';
      continue;
    }
    if (seg === '{*}') continue;
    if (seg.includes('{') || seg.includes('}'))
      return `segment ${JSON.stringify(seg)} has "{" or "}" beyond {*} and {**} (named variables are not supported)`;
    if (isTemplate && !TEMPLATE_LITERAL.test(seg))
      return `segment ${JSON.stringify(seg)} is not a literal (no "*", "?" or empty segments beside {*} and {**})`;
  }
  return null;
}

function checkPath(s: string, at: At, c: Checker): void {
  const err = pathTemplateError(s);
  if (err) c.error(at, `invalid or unsupported path template ${JSON.stringify(s)}: ${err}`);
}

function checkServiceAccount(s: string, at: At, c: Checker): void {
  const parts = s.split('/');
  if (s.includes('*') || parts.length > 2 || parts.some((p) => p === '') || s.length > 320)
    c.error(
      at,
      `must be "namespace/serviceaccount" or "serviceaccount" without wildcards, got ${JSON.stringify(s)}`,
    );
}

const strings = (check?: (v: string, at: At, c: Checker) => void): Validator<string[]> =>
  list(nonEmpty(check));

const SOURCE_FIELDS = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
] as const;

const OPERATION_FIELDS = [
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
] as const;

function anySet(o: Record<string, unknown>, fields: readonly string[]): boolean {
  return fields.some((f) => Array.isArray(o[f]) && (o[f] as unknown[]).length > 0);
}

const source = (): Validator<Source> =>
  obj<Source>(
    {
      principals: strings(),
      notPrincipals: strings(),
      requestPrincipals: strings(),
      notRequestPrincipals: strings(),
      namespaces: strings(),
      notNamespaces: strings(),
      serviceAccounts: list(nonEmpty(checkServiceAccount), { max: 16 }),
      notServiceAccounts: list(nonEmpty(checkServiceAccount), { max: 16 }),
      ipBlocks: strings(checkIpBlock),
      notIpBlocks: strings(checkIpBlock),
      remoteIpBlocks: strings(checkIpBlock),
      notRemoteIpBlocks: strings(checkIpBlock),
    },
    {
      rules: (s, at, c) => {
        if (!anySet(s as Record<string, unknown>, SOURCE_FIELDS))
          c.error(at, `must not be empty: set at least one of ${SOURCE_FIELDS.join(', ')} (or omit "from")`);
        const sa = s.serviceAccounts?.length || s.notServiceAccounts?.length;
        const pn =
          s.principals?.length || s.notPrincipals?.length || s.namespaces?.length || s.notNamespaces?.length;
        if (sa && pn) c.error(at, 'serviceAccounts cannot be combined with principals or namespaces');
      },
    },
  );

const operation = (): Validator<Operation> =>
  obj<Operation>(
    {
      hosts: strings(),
      notHosts: strings(),
      ports: strings(checkPortString),
      notPorts: strings(checkPortString),
      methods: strings(),
      notMethods: strings(),
      paths: strings(checkPath),
      notPaths: strings(checkPath),
    },
    {
      rules: (o, at, c) => {
        if (!anySet(o as Record<string, unknown>, OPERATION_FIELDS))
          c.error(at, `must not be empty: set at least one of ${OPERATION_FIELDS.join(', ')} (or omit "to")`);
      },
    },
  );

const condition = (): Validator<Condition> =>
  obj<Condition>(
    { key: { required: true, v: nonEmpty(checkConditionKey) }, values: strings(), notValues: strings() },
    {
      rules: (w, at, c) => {
        if (!w.values?.length && !w.notValues?.length) {
          c.error(
            fieldAt(at, w, 'values'),
            `at least one of values or notValues must be set for key ${w.key}`,
          );
          return;
        }
        if (w.values) checkConditionValues(w.key, w.values, fieldAt(at, w, 'values'), c);
        if (w.notValues) checkConditionValues(w.key, w.notValues, fieldAt(at, w, 'notValues'), c);
      },
    },
  );

const rule = (): Validator<Rule> =>
  obj<Rule>(
    {
      from: list(obj<RuleFrom>({ source: { required: true, v: source() } }), { max: 512 }),
      to: list(obj<RuleTo>({ operation: { required: true, v: operation() } })),
      when: list(condition()),
    },
    {
      rules: (r, at, c) => {
        if (r.from && r.from.length === 0)
          c.error(fieldAt(at, r, 'from'), 'must not be empty (omit "from" to match any source)');
        if (r.to && r.to.length === 0)
          c.error(fieldAt(at, r, 'to'), 'must not be empty (omit "to" to match any operation)');
      },
    },
  );

/** Fields the CUSTOM action cannot use: its ext_authz filter runs before these are known. */
const CUSTOM_UNSUPPORTED_SOURCE = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
] as const;

function checkCustom(p: AuthorizationPolicySpec, at: At, c: Checker): void {
  if (!p.rules) {
    c.error(
      fieldAt(at, p, 'rules'),
      'CUSTOM action without rules is never triggered; add an empty rule `{}` to apply it to every request',
    );
  } else if (!p.provider?.name) {
    c.error(fieldAt(at, p, 'provider'), 'is required with action CUSTOM (the extension provider name)');
  }
  p.rules?.forEach((r, i) => {
    const rAt = fieldAt(fieldAt(at, p, 'rules'), p.rules!, i);
    r.from?.forEach((f, j) => {
      const sAt = fieldAt(fieldAt(fieldAt(rAt, r, 'from'), r.from!, j), f, 'source');
      for (const k of CUSTOM_UNSUPPORTED_SOURCE)
        if (f.source[k]?.length) c.error(fieldAt(sAt, f.source, k), `is not supported with action CUSTOM`);
    });
    r.when?.forEach((w, j) => {
      if (w.key === 'source.namespace' || w.key === 'source.principal' || w.key.startsWith('request.auth.'))
        c.error(
          fieldAt(fieldAt(fieldAt(rAt, r, 'when'), r.when!, j), w, 'key'),
          `${w.key} is not supported with action CUSTOM`,
        );
    });
  });
}

/** True when a rule names only HTTP attributes, so on TCP traffic a DENY of it matches everything. */
function httpOnly(r: Rule): boolean {
  const tcpFrom = r.from?.some((f) =>
    anySet(f.source as Record<string, unknown>, [
      'principals',
      'notPrincipals',
      'namespaces',
      'notNamespaces',
      'serviceAccounts',
      'notServiceAccounts',
      'ipBlocks',
      'notIpBlocks',
      'remoteIpBlocks',
      'notRemoteIpBlocks',
    ]),
  );
  const tcpTo = r.to?.some((t) => anySet(t.operation as Record<string, unknown>, ['ports', 'notPorts']));
  const hasFrom = (r.from?.length ?? 0) > 0;
  const hasTo = (r.to?.length ?? 0) > 0;
  return (hasFrom && !hasTo && !tcpFrom) || (hasTo && !tcpTo);
}

/** Schema of AuthorizationPolicy.spec with Istio's cross-field rules. */
export const authorizationPolicySpec = (): Validator<AuthorizationPolicySpec> =>
  obj<AuthorizationPolicySpec>(
    {
      selector: workloadSelector(),
      targetRef: policyTargetReference(),
      targetRefs: list(policyTargetReference(), { max: 16 }),
      rules: list(rule(), { max: 512 }),
      action: enumOf(ACTIONS),
      provider: obj<ExtensionProvider>({ name: { required: true, v: nonEmpty() } }),
    },
    {
      rules: (p, at, c) => {
        checkOneTargetKind(p, at, c);
        const action = p.action ?? 'ALLOW';
        warnWaypointOnly(p, at, c);
        if (action === 'CUSTOM') {
          checkCustom(p, at, c);
        } else if (p.provider)
          c.error(fieldAt(at, p, 'provider'), `must only be set with action CUSTOM, got action ${action}`);
        if (action === 'DENY' && !p.rules?.length)
          c.error(
            fieldAt(at, p, 'rules'),
            'DENY action without rules is never triggered; add an empty rule `{}` to deny every request',
          );
        if (action === 'DENY')
          p.rules?.forEach((r, i) => {
            if (httpOnly(r))
              c.warn(
                fieldAt(fieldAt(at, p, 'rules'), p.rules!, i),
                'this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in scope; name the ports explicitly',
              );
          });
      },
    },
  );

/** The AuthorizationPolicy kind (the dry-run annotation works with ALLOW and DENY only). */
export const authorizationPolicyKind = withDryRunCheck(
  istioKind('AuthorizationPolicy', ISTIO_VERSIONS.security, authorizationPolicySpec()),
  (body) => {
    const action = (body.spec as AuthorizationPolicySpec | undefined)?.action ?? 'ALLOW';
    return action === 'ALLOW' || action === 'DENY'
      ? undefined
      : `the istio.io/dry-run annotation only works with action ALLOW or DENY, got ${action}`;
  },
);
