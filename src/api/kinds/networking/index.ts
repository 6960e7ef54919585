// Registers the networking.istio.io kinds.
import { registerKinds } from '../registry.js';
import { workloadEntryKind } from './workload-entry.js';
import { virtualServiceKind } from './virtual-service.js';
import { destinationRuleKind } from './destination-rule.js';
import { gatewayKind } from './gateway.js';
import { serviceEntryKind } from './service-entry.js';
import { sidecarKind } from './sidecar.js';
import { workloadGroupKind } from './workload-group.js';
import { envoyFilterKind } from './envoy-filter.js';
import { proxyConfigKind } from './proxy-config.js';

registerKinds([
  virtualServiceKind,
  destinationRuleKind,
  gatewayKind,
  serviceEntryKind,
  sidecarKind,
  workloadEntryKind,
  workloadGroupKind,
  envoyFilterKind,
  proxyConfigKind,
]);
