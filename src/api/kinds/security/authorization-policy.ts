// AuthorizationPolicy (security.istio.io): which requests a workload allows, denies or audits.
import type { SpecResource } from '../../resource.js';
import type { PolicyTargetReference, WorkloadSelector } from './policy-target.js';

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
