// Registers the networking.istio.io kinds.
import { registerKinds } from '../registry.js';
import { workloadEntryKind } from './workload-entry.js';
import { virtualServiceKind } from './virtual-service.js';
import { destinationRuleKind } from './destination-rule.js';
import { gatewayKind } from './gateway.js';
import { serviceEntryKind } from './service-entry.js';

registerKinds([workloadEntryKind, virtualServiceKind, destinationRuleKind, gatewayKind, serviceEntryKind]);
