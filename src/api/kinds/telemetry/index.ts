// Registers the telemetry kinds.
import { registerKinds } from '../registry.js';

registerKinds([]);
