// The run directory of `mizzen up` (config, logs, state.json) and the state other commands read from it.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProcessStatus } from './supervisor.js';

/** Default run directory, relative to the current directory. */
export const DEFAULT_RUN_DIR = '.mizzen';

/** The run directory: `--run-dir`, else $MIZZEN_RUN_DIR, else `.mizzen/` here; absolute. */
export function resolveRunDir(flag?: string): string {
  return resolve(flag || process.env['MIZZEN_RUN_DIR'] || DEFAULT_RUN_DIR);
}

/** Every path inside a run directory. */
export interface RunPaths {
  readonly root: string;
  /** What `mizzen server --config` watches. */
  readonly config: string;
  /** Copies of the manifests given to `up`. */
  readonly manifests: string;
  /** One generated Pod object per running instance. */
  readonly pods: string;
  /** One file per resource written by `mizzen apply`. */
  readonly applied: string;
  /** One log file per process, plus up.log of a detached `up`. */
  readonly logs: string;
  readonly state: string;
}

/** The layout of a run directory. */
export function runPaths(root: string): RunPaths {
  const config = join(root, 'config');
  return {
    root,
    config,
    manifests: join(config, 'manifests'),
    pods: join(config, 'pods'),
    applied: join(config, 'applied'),
    logs: join(root, 'logs'),
    state: join(root, 'state.json'),
  };
}

/** A supervised process as recorded in state.json. */
export interface ProcessRecord extends ProcessStatus {
  /** Its log file (absolute). */
  readonly logFile: string;
}

/** A running pod as recorded in state.json. */
export interface PodRecord {
  readonly name: string;
  readonly namespace: string;
  /** Deployment name, or the pod name for a bare Pod. */
  readonly workload: string;
  readonly workloadKind: 'Deployment' | 'Pod';
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** 127.1.X.Y: the sidecar. */
  readonly podIp: string;
  /** 127.2.X.Y: the app. */
  readonly appIp: string;
  /** Container ports (the sidecar's inbound ports on podIp, the app's on appIp). */
  readonly ports: readonly number[];
  /** Names of the app processes (one per runnable container). */
  readonly appProcesses: readonly string[];
  /** Containers with only an `image:` (no command): mizzen runs nothing for them. */
  readonly imageOnly?: readonly string[];
  readonly sidecar: {
    readonly process: string;
    readonly adminPort: number;
    readonly nodeId: string;
    /** Where admin listens when not on 127.0.0.1 (pod network mode: the pod IP). */
    readonly adminIp?: string;
  };
  /** The pod's network namespace (pod network mode). */
  readonly netns?: string;
  /** Clock time the pod was created (ms since epoch). */
  readonly createdAt: number;
}

/** A published gateway port. */
export interface GatewayPort {
  /** Port in the Gateway resource. */
  readonly port: number;
  /** Port on 127.0.0.1 (port + offset below 1024). */
  readonly published: number;
  readonly protocol: string;
  readonly name: string;
}

/** Where a `mizzen up` run is in its life. */
export type RunPhase = 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

/** Contents of state.json, rewritten by the `up` process whenever something changes. */
export interface RunState {
  readonly version: 1;
  /** The `mizzen up` process that supervises everything. */
  readonly pid: number;
  /** When that process started (ms since epoch, from /proc where available), to tell it from a reused pid. */
  readonly pidStartedAt: number;
  readonly phase: RunPhase;
  /** Why it failed, or what it waits for. */
  readonly message?: string;
  /** The manifest folder given to `up` (absolute). */
  readonly manifests: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly updatedAt: number;
  /** host:port of the control plane's xDS server. */
  readonly xdsAddress: string;
  /** host:port of the control plane's debug HTTP server (/debug/syncz). */
  readonly debugAddress: string;
  /** `127.0.0.1:port` of `up --with-prometheus`'s Prometheus; absent when none runs. */
  readonly prometheusAddress?: string;
  /** URL of `up --dashboard`'s dashboard; absent when none runs. */
  readonly dashboardUrl?: string;
  readonly gatewayPortOffset: number;
  readonly server: { readonly process: string };
  readonly gateway: {
    readonly process: string;
    readonly nodeId: string;
    readonly adminPort: number;
    readonly ports: readonly GatewayPort[];
  };
  readonly pods: readonly PodRecord[];
  /** Every supervised process by name. */
  readonly processes: Readonly<Record<string, ProcessRecord>>;
  /** Pod network mode's namespaces (for `down` after a crash); absent or `host` otherwise. */
  readonly network?: {
    readonly mode: 'pod' | 'host';
    readonly prefix?: string;
    readonly hostLink?: string;
    readonly subnet?: string;
    /**
     * Rootless pod mode: a process in the mesh's user and network namespace (the inner `up`); CLI
     * commands that reach pods re-enter it (rootless.ts). `pid` above is then the host-side `up`.
     */
    readonly nsPid?: number;
  };
}

/** Writes state.json atomically (readers never see half a file). */
export function writeState(paths: RunPaths, state: RunState): void {
  mkdirSync(paths.root, { recursive: true });
  const tmp = `${paths.state}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, paths.state);
}

/** Reads state.json; undefined when there is none or it cannot be parsed. */
export function readState(paths: RunPaths): RunState | undefined {
  if (!existsSync(paths.state)) return undefined;
  try {
    const s = JSON.parse(readFileSync(paths.state, 'utf8')) as RunState;
    return s && s.version === 1 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** True while a process with that pid exists. */
export function isAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a process started (ms since epoch) from /proc, or undefined where /proc cannot tell. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot) counts from after the parenthesised command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(ticks)) return undefined;
    return Number(btime[1]) * 1000 + (ticks / 100) * 1000;
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and is the process recorded as started at `startedAt` (ms since epoch):
 * guards against signalling an unrelated process that reused the pid of a long-gone one.
 */
export function isSameProcess(pid: number | null | undefined, startedAt: number | null | undefined): boolean {
  if (!pid || !isAlive(pid)) return false;
  if (!startedAt) return true;
  const t = processStartTime(pid);
  // Under load a child starts a little after spawn() returns; 10 s of slack still rules out reuse.
  return t === undefined || Math.abs(t - startedAt) < 10_000;
}

/** The state of a live run (its `up` process still exists), or a message saying why there is none. */
export function liveState(paths: RunPaths): { state: RunState } | { error: string } {
  const state = readState(paths);
  if (!state) return { error: `no mesh is running from ${paths.root} (start one with \`mizzen up DIR\`)` };
  if (!isSameProcess(state.pid, state.pidStartedAt) || state.phase === 'stopped')
    return {
      error: `the mesh of ${paths.root} is not running (it was stopped; \`mizzen up DIR\` starts it)`,
    };
  return { state };
}

/**
 * Pods a user means by NAME: a pod name, `pod/NAME`, a workload (Deployment) name or `deploy/NAME`,
 * or else an `app` label value; in state order.
 */
export function findPods(state: RunState, name: string, namespace?: string): PodRecord[] {
  const pods = state.pods.filter((p) => !namespace || p.namespace === namespace);
  const slash = name.indexOf('/');
  const kind = slash > 0 ? name.slice(0, slash).toLowerCase() : '';
  const n = slash > 0 ? name.slice(slash + 1) : name;
  if (['pod', 'pods', 'po'].includes(kind)) return pods.filter((p) => p.name === n);
  if (['deploy', 'deployment', 'deployments'].includes(kind))
    return pods.filter((p) => p.workloadKind === 'Deployment' && p.workload === n);
  const exact = pods.filter((p) => p.name === n);
  if (exact.length) return exact;
  const byWorkload = pods.filter((p) => p.workload === n);
  if (byWorkload.length) return byWorkload;
  return pods.filter((p) => p.labels['app'] === n);
}
