// Every analyzer `mizzen analyze` runs, in report order.
import type { Analyzer } from '../analyzer.js';
import { conflictingGatewaysAnalyzer } from './conflicting-gateways.js';
import { conflictingHostsAnalyzer } from './conflicting-hosts.js';
import { destinationHostAnalyzer } from './destination-hosts.js';
import { destinationSubsetAnalyzer } from './destination-subsets.js';
import { duplicateDestinationRulesAnalyzer } from './duplicate-destination-rules.js';
import { mtlsConflictAnalyzer } from './mtls-conflict.js';
import { portNameAnalyzer } from './port-names.js';
import { serviceEntryAddressesAnalyzer } from './service-entry-addresses.js';
import { sidecarSelectorAnalyzer } from './sidecar-selectors.js';
import { subsetWorkloadsAnalyzer } from './subset-workloads.js';
import { unreachableRulesAnalyzer } from './unreachable-rules.js';
import { virtualServiceGatewayAnalyzer } from './virtual-service-gateways.js';
import { workloadSelectorAnalyzer } from './workload-selectors.js';

/** The analyzers, each independent of the others. */
export const ANALYZERS: readonly Analyzer[] = [
  destinationHostAnalyzer,
  destinationSubsetAnalyzer,
  virtualServiceGatewayAnalyzer,
  conflictingHostsAnalyzer,
  unreachableRulesAnalyzer,
  workloadSelectorAnalyzer,
  sidecarSelectorAnalyzer,
  conflictingGatewaysAnalyzer,
  mtlsConflictAnalyzer,
  portNameAnalyzer,
  subsetWorkloadsAnalyzer,
  duplicateDestinationRulesAnalyzer,
  serviceEntryAddressesAnalyzer,
];
