// Registers every kind Mizzen reads. Each API group's folder registers its own kinds.
import './networking/index.js';
import './security/index.js';
import './telemetry/index.js';
import './kubernetes/index.js';
