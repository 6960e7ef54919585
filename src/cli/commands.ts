// The table of subcommands. Each entry loads its module lazily so `mizzen validate` does not load the proxy.
import type { Command } from './command.js';

/** name → loader of the command module (each module's default export is a Command). */
export const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  up: {
    summary: 'run a whole mesh on this machine from a folder of manifests',
    load: () => import('./up.js'),
  },
  server: {
    summary: 'run the control plane: serve Istio config as Envoy resources over ADS',
    load: () => import('./server.js'),
  },
  validate: {
    summary: 'check config files against the Istio and Kubernetes schemas',
    load: () => import('./validate.js'),
  },
  analyze: {
    summary: 'check config for cross-resource problems (like istioctl analyze)',
    load: () => import('./analyze.js'),
  },
};
