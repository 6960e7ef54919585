// Registers the telemetry.istio.io kinds.
import { registerKinds } from '../registry.js';
import { telemetryKind } from './telemetry.js';

registerKinds([telemetryKind]);
