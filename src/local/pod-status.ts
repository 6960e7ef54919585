// A pod's READY / STATUS / RESTARTS as `kubectl get pods` shows them, from its processes and probes.
import type { PodReadiness } from './readiness.js';
import type { PodRecord, ProcessRecord } from './run-state.js';

/** One row's computed columns. */
export interface PodStatusColumns {
  /** `ready/total` containers, the sidecar counting as one. */
  readonly ready: string;
  /** Running, CrashLoopBackOff, Error, Completed, Terminating, ContainerCreating, ImageNotRun. */
  readonly status: string;
  /** Restarts of all of the pod's processes. */
  readonly restarts: number;
}

/** Derives the columns; `probe` is undefined when the pod could not be probed. */
export function podStatus(
  pod: PodRecord,
  processes: Readonly<Record<string, ProcessRecord>>,
  probe: PodReadiness | undefined,
): PodStatusColumns {
  const apps = pod.appProcesses.map((n) => processes[n]);
  const sidecar = processes[pod.sidecar.process];
  const all = [...apps, sidecar];
  const imageOnly = pod.imageOnly?.length ?? 0;
  const restarts = all.reduce((n, p) => n + (p?.restarts ?? 0), 0);
  const readyApps = probe?.app ? apps.filter((p) => p?.state === 'running').length : 0;
  const readySidecar = probe?.sidecar && sidecar?.state === 'running' ? 1 : 0;
  let status = 'Running';
  if (all.some((p) => p?.state === 'stopping')) status = 'Terminating';
  else if (all.some((p) => p?.state === 'backoff'))
    status = all.some((p) => (p?.restarts ?? 0) > 0) ? 'CrashLoopBackOff' : 'Error';
  else if (apps.some((p) => p?.state === 'exited'))
    status = apps.every((p) => p?.lastExit?.code === 0) ? 'Completed' : 'Error';
  else if (all.some((p) => !p || p.state === 'stopped')) status = 'ContainerCreating';
  // A container with only an image never runs here: it counts as not ready, and the pod says so.
  else if (imageOnly > 0) status = 'ImageNotRun';
  return { ready: `${readyApps + readySidecar}/${apps.length + imageOnly + 1}`, status, restarts };
}
