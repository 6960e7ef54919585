// The table of subcommands. Each entry loads its module lazily so `mizzen validate` does not load the proxy.
import type { Command } from './command.js';

/** name → loader of the command module (each module's default export is a Command). */
export const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  proxy: {
    summary: 'run the data plane (an Envoy-compatible proxy) from a bootstrap or an ADS server',
    load: () => import('./proxy.js'),
  },
  agent: {
    summary: 'run the agent of a proxyless gRPC app: its xDS bootstrap and certificate files',
    load: () => import('./agent.js'),
  },
  up: {
    summary: 'run a whole mesh on this machine from a folder of manifests',
    load: () => import('./up.js'),
  },
  down: { summary: 'stop the local mesh (everything `mizzen up` started)', load: () => import('./down.js') },
  status: {
    summary: 'list the pods of the local mesh with readiness, restarts and sidecar sync state',
    load: () => import('./status.js'),
  },
  logs: { summary: "print a pod's or workload's logs (app or sidecar)", load: () => import('./logs.js') },
  exec: {
    summary: "run a command with a pod's identity, through its sidecar",
    load: () => import('./exec.js'),
  },
  apply: { summary: 'add or change resources in the running local mesh', load: () => import('./apply.js') },
  delete: { summary: 'remove resources from the running local mesh', load: () => import('./delete.js') },
  get: {
    summary: 'list resources of the running local mesh (like kubectl get)',
    load: () => import('./get.js'),
  },
  'proxy-config': {
    summary: "show a proxy's listeners, routes, clusters, endpoints or secrets (like istioctl)",
    load: () => import('./proxy-config.js'),
  },
  'proxy-status': {
    summary: "every proxy's xDS sync state per type",
    load: () => import('./proxy-status.js'),
  },
  dashboard: {
    summary: 'serve the web dashboard (graph, config health, route explainer) and print its URL',
    load: () => import('./dashboard.js'),
  },
  x: {
    summary: 'experimental commands: x authz check POD, x explain SOURCE URL (like istioctl x)',
    load: () => import('./x.js'),
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
  version: { summary: 'print the version of Mizzen', load: () => import('./version.js') },
  install: {
    summary: 'print the Kubernetes manifests of a Mizzen control plane',
    load: () => import('./install.js'),
  },
  'kube-inject': {
    summary: 'inject sidecars into Kubernetes manifests (like istioctl kube-inject)',
    load: () => import('./kube-inject.js'),
  },
};
