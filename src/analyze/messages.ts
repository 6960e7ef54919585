// The analysis message types Mizzen reports: Istio's codes and levels where Istio has one, MZ- codes otherwise.
import type { Severity } from '../api/diagnostic.js';

/** One kind of finding: a stable code, its Istio name and its level. */
export interface MessageType {
  /** `IST0101`… as istioctl prints them, or a Mizzen `MZ-…` code where Istio has none. */
  readonly code: string;
  /** Istio's message name, e.g. ReferencedResourceNotFound. */
  readonly name: string;
  readonly level: Severity;
}

const m = (code: string, name: string, level: Severity): MessageType => ({ code, name, level });

/** Every message type the analyzers emit. Levels follow Istio's messages.yaml. */
export const MESSAGES = {
  ReferencedResourceNotFound: m('IST0101', 'ReferencedResourceNotFound', 'error'),
  SchemaValidationError: m('IST0106', 'SchemaValidationError', 'error'),
  ConflictingMeshGatewayVirtualServiceHosts: m(
    'IST0109',
    'ConflictingMeshGatewayVirtualServiceHosts',
    'error',
  ),
  ConflictingSidecarWorkloadSelectors: m('IST0110', 'ConflictingSidecarWorkloadSelectors', 'error'),
  MultipleSidecarsWithoutWorkloadSelectors: m('IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', 'error'),
  VirtualServiceDestinationPortSelectorRequired: m(
    'IST0112',
    'VirtualServiceDestinationPortSelectorRequired',
    'error',
  ),
  PortNameIsNotUnderNamingConvention: m('IST0118', 'PortNameIsNotUnderNamingConvention', 'info'),
  NoMatchingWorkloadsFound: m('IST0127', 'NoMatchingWorkloadsFound', 'warning'),
  VirtualServiceUnreachableRule: m('IST0130', 'VirtualServiceUnreachableRule', 'warning'),
  VirtualServiceIneffectiveMatch: m('IST0131', 'VirtualServiceIneffectiveMatch', 'info'),
  VirtualServiceHostNotFoundInGateway: m('IST0132', 'VirtualServiceHostNotFoundInGateway', 'warning'),
  SchemaWarning: m('IST0133', 'SchemaWarning', 'warning'),
  ServiceEntryAddressesRequired: m('IST0134', 'ServiceEntryAddressesRequired', 'warning'),
  ConflictingGateways: m('IST0145', 'ConflictingGateways', 'error'),
  /** Istio's docs show this one as an error; Mizzen warns, as a subset is often declared before its pods. */
  DestinationRuleSubsetNotSelectPods: m('IST0173', 'DestinationRuleSubsetNotSelectPods', 'warning'),
  UnknownDestinationRuleHost: m('IST0174', 'UnknownDestinationRuleHost', 'warning'),
  /** Istio retired IST0113 (MTLSPolicyConflict); the conflict still breaks traffic, so Mizzen reports it. */
  MtlsModeConflict: m('MZ-MTLS-CONFLICT', 'MTLSModeConflict', 'error'),
  /** Two DestinationRules for one host in one namespace: Istio merges them, which is rarely what was meant. */
  MultipleDestinationRulesForHost: m(
    'MZ-DESTINATION-RULE-MERGE',
    'MultipleDestinationRulesForHost',
    'warning',
  ),
  /** Two VirtualServices bind one host on one gateway: Istio merges their rules in creation order. */
  GatewayVirtualServiceHostsMerged: m('MZ-GATEWAY-HOST-MERGE', 'GatewayVirtualServiceHostsMerged', 'warning'),
} as const;

/** istio.io page documenting an IST code, for JSON output. */
export function documentationUrl(code: string): string | undefined {
  return /^IST\d{4}$/.test(code)
    ? `https://istio.io/latest/docs/reference/config/analysis/${code.toLowerCase()}/`
    : undefined;
}
