// Registers the networking.istio.io kinds.
import { registerKinds } from '../registry.js';
import { workloadEntryKind } from './workload-entry.js';

registerKinds([workloadEntryKind]);
