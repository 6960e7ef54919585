// Registers the networking.istio.io kinds.
import { registerKinds } from '../registry.js';
import { workloadEntryKind } from './workload-entry.js';
import { virtualServiceKind } from './virtual-service.js';

registerKinds([workloadEntryKind, virtualServiceKind]);
