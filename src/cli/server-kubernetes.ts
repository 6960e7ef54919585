// `mizzen server --kubernetes`: config from the Kubernetes API (in-cluster service account, or --kubeconfig FILE).
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from './command.js';
import { KubernetesStore } from '../config/kubernetes/kube-store.js';
import { KubernetesCaRootStore } from '../config/kubernetes/kube-ca-root.js';
import { TokenReviewAuthenticator } from '../config/kubernetes/token-review.js';
import { CONTROL_PLANE_NAMESPACE } from '../kube/defaults.js';
import { autoRegistrationRefused } from '../pilot/auto-registration.js';
import type { LogLevel } from '../xds/logger.js';

/** The cluster the flags name: a kubeconfig file (its current context), else the pod's in-cluster config. */
export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) {
    try {
      kc.loadFromFile(resolve(kubeconfig));
    } catch (err) {
      throw new UsageError(`--kubeconfig ${kubeconfig}: ${(err as Error).message}`);
    }
    if (!kc.getCurrentCluster())
      throw new UsageError(`--kubeconfig ${kubeconfig}: its current-context names no cluster`);
    return kc;
  }
  if (!process.env.KUBERNETES_SERVICE_HOST)
    throw new UsageError(
      '--kubernetes without --kubeconfig reads the in-cluster config, but KUBERNETES_SERVICE_HOST is not set (not running in a pod); pass --kubeconfig FILE',
    );
  kc.loadFromCluster();
  return kc;
}

/**
 * The Kubernetes store, and the CA root in Secrets of the control plane's namespace (POD_NAMESPACE,
 * as istiod reads it; else istio-system); the server's other parts are the same as for files and etcd.
 */
export function kubernetesBackend(kubeconfig: string | undefined, log: (level: LogLevel, m: string) => void) {
  const kubeConfig = loadKubeConfig(kubeconfig);
  const store = new KubernetesStore({ kubeConfig, log: (l) => log('warn', l) });
  const namespace = process.env.POD_NAMESPACE || CONTROL_PLANE_NAMESPACE;
  return {
    store,
    lifecycle: autoRegistrationRefused('--kubernetes does not write WorkloadEntries to the API yet', log),
    rootStore: new KubernetesCaRootStore(kubeConfig, namespace),
    kubernetesTokens: new TokenReviewAuthenticator(kubeConfig),
    close: () => {},
  };
}
