// Registers the kubernetes kinds.
import { registerKinds } from '../registry.js';

registerKinds([]);
