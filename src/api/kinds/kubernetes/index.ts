// Registers the Kubernetes kinds a mesh reads.
import { registerKinds } from '../registry.js';
import { namespaceKind } from './namespace.js';
import { serviceKind } from './service.js';
import { endpointsKind } from './endpoints.js';
import { endpointSliceKind } from './endpoint-slice.js';
import { podKind } from './pod.js';
import { deploymentKind } from './deployment.js';
import { serviceAccountKind } from './service-account.js';
import { secretKind } from './secret.js';
import { configMapKind } from './config-map.js';

registerKinds([
  namespaceKind,
  serviceKind,
  endpointsKind,
  endpointSliceKind,
  podKind,
  deploymentKind,
  serviceAccountKind,
  secretKind,
  configMapKind,
]);
