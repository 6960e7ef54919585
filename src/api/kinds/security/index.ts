// Registers the security kinds.
import { registerKinds } from '../registry.js';

registerKinds([]);
