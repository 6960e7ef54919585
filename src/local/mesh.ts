// Orchestrates a mesh on one machine: control plane, ingress gateway, a sidecar per pod and the workloads.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPaths } from '../api/load.js';
import { formatDiagnostic, sortDiagnostics } from '../api/diagnostic.js';
import { sourceOf, type Resource } from '../api/resource.js';
import type { BackoffOptions } from './backoff.js';
import { desiredDirs, manifestFiles, originalDir, writeManifests, yamlFiles } from './config-dir.js';
import { gatewayPorts, gatewayUrls } from './gateway-ports.js';
import { MANIFEST_DIR_ANNOTATION, manifestToPods, type PodPlan } from './manifest-to-pods.js';
import { containerEnv, expandArgv, lookupIn, OUTBOUND_PROXY_PORT, type PodAddress } from './pod-env.js';
import { allocatePodIps, appIpOf } from './pod-ip.js';
import { podFileName, podYaml } from './pod-object.js';
import { caDirOf, writePodToken } from './pod-tokens.js';
import { allBindable, canBind, freePortNotIn, preferredOrFree } from './ports.js';
import {
  findPrometheus,
  prometheusArgv,
  STATS_PORT,
  writePrometheusConfig,
  writeTargets,
  type ScrapeTarget,
} from './prometheus.js';
import { writeDemoMeshConfig } from './mesh-defaults.js';
import {
  MERGED_STATS_PORT,
  meshPrometheusMerge,
  podScrapePlan,
  podScrapeTargets,
} from './prometheus-merge.js';
import { PROMETHEUS_ANNOTATIONS_ENV } from '../proxy/admin/app-metrics.js';
import {
  GATEWAY_NAMESPACE,
  gatewayMetadata,
  gatewayNodeId,
  gatewayPodName,
  sidecarMetadata,
  sidecarNodeId,
} from './proxy-identity.js';
import { podReadiness, proxyReady, waitUntil } from './readiness.js';
import { clustersWithoutEndpoints, servicesWithPods } from './gateway-readiness.js';
import { fetchSyncz, syncStateOf } from './syncz.js';
import {
  processStartTime,
  readState,
  writeState,
  type GatewayPort,
  type PodRecord,
  type ProcessRecord,
  type RunPaths,
  type RunPhase,
  type RunState,
} from './run-state.js';
import { Supervisor, type LineSink, type SupervisedProcess } from './supervisor.js';
import { PodNetworkMode, type NetworkMode } from './pod-mode.js';
import { rootlessOuterPid } from './rootless.js';

/** How to run `mizzen` itself: this Node and the package's bin script. */
export function mizzenCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../../bin/mizzen.js', import.meta.url))];
}

/** Process name of the control plane. */
export const SERVER_PROCESS = 'mizzen-server';
/** Process name of `up --with-prometheus`'s Prometheus. */
export const PROMETHEUS_PROCESS = 'prometheus';
/** Process name of the ingress gateway. */
export const GATEWAY_PROCESS = 'istio-ingressgateway';

/** Settings of one local mesh. */
export interface MeshOptions {
  /** The folder (or file) of manifests given to `up`, absolute. */
  readonly manifestPath: string;
  readonly paths: RunPaths;
  /** Gateway ports below 1024 are published at port + offset. */
  readonly gatewayPortOffset: number;
  /** Preferred xDS port on 127.0.0.1 (a free one when busy; 0: any free port). */
  readonly xdsPort: number;
  /** Preferred debug HTTP port of the control plane (same rule). */
  readonly debugPort: number;
  /** The xDS port was given explicitly (`--xds-port`): fail when it is busy instead of choosing another. */
  readonly xdsPortRequired?: boolean;
  /** argv prefix that runs `mizzen` (default: mizzenCommand()). */
  readonly mizzen?: readonly string[];
  /** Progress and notes for the user, one line each. */
  readonly say: (line: string) => void;
  /** Every output line of every process. */
  readonly onLine?: LineSink;
  readonly backoff?: BackoffOptions;
  /** How often config/ is checked for added or removed workloads (ms, default 500). */
  readonly pollMs?: number;
  /** How long to wait for the control plane's `xds listening on` line (ms, default 30000). */
  readonly serverStartTimeoutMs?: number;
  /** `pod`: a network namespace per pod with transparent capture (pod-mode.ts); `host` (default): loopback addresses. */
  readonly network?: NetworkMode;
  /** Pod mode: the mesh DNS's upstream resolvers (`H:P,...` or `none`); unset: the host's resolv.conf. */
  readonly dnsUpstream?: string;
  /** Pod mode without root, inside a user namespace of its own (rootless.ts). */
  readonly rootless?: boolean;
  /** Run Debian's `prometheus` scraping every proxy and the control plane (`up --with-prometheus`). */
  readonly prometheus?: { readonly scrapeIntervalS: number; readonly port: number } | null;
}

/** A pod that runs. */
interface RunningPod {
  readonly plan: PodPlan;
  readonly addr: PodAddress;
  readonly adminPort: number;
  readonly nodeId: string;
  readonly createdAt: number;
  readonly sidecarProcess: string;
  readonly appProcesses: string[];
  /** The pod's network namespace (pod network mode), else ''. */
  readonly netns: string;
  /** What the generated Pod object says. */
  ready: boolean;
}

/** Name of an app process: the pod name, or `pod/container` when the pod runs several containers. */
function appProcessName(plan: PodPlan, container: string): string {
  return plan.containers.length === 1 ? plan.name : `${plan.name}/${container}`;
}

/** `{ imageOnly }` naming the containers that have no command (nothing runs for them), or nothing. */
function imageOnlyOf(plan: PodPlan): { imageOnly?: string[] } {
  const runs = new Set(plan.containers.map((c) => c.name));
  const names = plan.podContainers.filter((c) => !runs.has(c.name)).map((c) => c.name);
  return names.length ? { imageOnly: names } : {};
}

/** Log file of a process: `logs/<name>.log` with `/` and spaces made safe. */
export function logFileOf(paths: RunPaths, processName: string): string {
  return join(paths.logs, `${processName.replace(/[/ ]/g, '.')}.log`);
}

/** A whole mesh under one supervisor. */
export class LocalMesh {
  private readonly o: MeshOptions;
  private readonly sup: Supervisor;
  private readonly mizzen: readonly string[];
  private readonly base: string;
  private readonly pods = new Map<string, RunningPod>();
  private phase: RunPhase = 'starting';
  private message = '';
  private readonly startedAt = Date.now();
  /** The process `down` signals: this one, or a rootless run's host-side `up` (which passes it on). */
  private readonly statePid = rootlessOuterPid() ?? process.pid;
  private readonly pidStartedAt = processStartTime(this.statePid) ?? this.startedAt;
  private xdsAddress = '';
  private debugAddress = '';
  private gatewayAdmin = 0;
  /** The gateway's Envoy Prometheus port on 127.0.0.1. */
  private gatewayStats = 0;
  /** The gateway's merged metrics port (Istio's 15020) on 127.0.0.1. */
  private gatewayMergedStats = 0;
  /** `127.0.0.1:port` of the Prometheus `up --with-prometheus` started, '' when none. */
  private prometheusAddress = '';
  /** URL of the dashboard `up --dashboard` serves, '' when none. */
  private dashboardUrl = '';
  private readonly gatewayName: string;
  private gwPorts: GatewayPort[] = [];
  private previousIps = new Map<string, string>();
  /**
   * Every 127.0.0.1 port this mesh has chosen (control plane, gateway, pods' admin ports, published
   * ports): the kernel may offer a chosen port again before its process binds it.
   */
  private readonly chosenPorts = new Set<number>();
  private serverLine: ((addr: string) => void) | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private lastSignature = '';
  private reconciling: Promise<void> | null = null;
  private reconcileAgain = false;
  private stateTimer: ReturnType<typeof setTimeout> | null = null;
  private lastDiagnostics = '';
  /** What the user asked for, as last loaded (loading is the costly part of a reconcile). */
  private desiredResources: Resource[] = [];
  /** Pod network mode, null in host mode. */
  private readonly podNet: PodNetworkMode | null;

  /** MeshConfig enablePrometheusMerge of the manifests' ConfigMap istio-system/istio (Istio's default true). */
  private prometheusMerge(): boolean {
    const cm = this.desiredResources.find(
      (r) =>
        r.kind === 'ConfigMap' && r.metadata.name === 'istio' && r.metadata.namespace === GATEWAY_NAMESPACE,
    );
    return meshPrometheusMerge((cm?.data as Record<string, string> | undefined)?.mesh);
  }

  constructor(o: MeshOptions) {
    this.o = o;
    this.mizzen = o.mizzen ?? mizzenCommand();
    this.base = statSync(o.manifestPath).isDirectory() ? o.manifestPath : dirname(o.manifestPath);
    this.gatewayName = gatewayPodName(o.paths.root);
    this.podNet =
      o.network === 'pod'
        ? new PodNetworkMode(o.paths.root, o.dnsUpstream ?? null, o.rootless === true)
        : null;
    this.sup = new Supervisor({
      ...(o.backoff ? { backoff: o.backoff } : {}),
      onLine: (name, line, stream) => {
        if (name === SERVER_PROCESS && this.serverLine) {
          const m = /xds listening on (\S+)/.exec(line);
          if (m) this.serverLine(m[1]);
        }
        o.onLine?.(name, line, stream);
      },
      onChange: (p) => this.processChanged(p),
    });
  }

  /** Copies the manifests, starts the control plane, then the gateway and every pod (not waiting for readiness). */
  async start(): Promise<void> {
    const { paths } = this.o;
    for (const p of readState(paths)?.pods ?? []) this.previousIps.set(`${p.namespace}/${p.name}`, p.podIp);
    mkdirSync(paths.logs, { recursive: true });
    writeManifests(paths, this.base, manifestFiles(this.o.manifestPath, paths.root));
    const desired = this.loadDesired();
    this.gwPorts = gatewayPorts(desired.resources, this.o.gatewayPortOffset);
    const images = desired.notes.filter((n) => / image .* ignored; runs its command locally$/.test(n)).length;
    if (images)
      this.o.say(
        `container images are ignored: each container's command runs as a local process (${images})`,
      );
    for (const n of desired.notes) if (!/ image .* ignored; runs its command locally$/.test(n)) this.o.say(n);
    // A busy gateway port would leave the gateway NACKing its listener while `up` reported ready.
    for (const p of this.gwPorts)
      if (!(await canBind('127.0.0.1', p.published)))
        throw new Error(
          `127.0.0.1:${p.published} is in use: the gateway cannot publish port ${p.port} there; free it` +
            (p.port < 1024 ? ' or choose another --gateway-port-offset' : ''),
        );
    if (this.podNet) {
      const egress = this.podNet.setUp();
      const where = this.podNet.net.heldDir ?? `${this.podNet.net.prefix}*`;
      this.o.say(`pod network: ${this.podNet.net.subnet} (namespaces ${where}); ${egress}`);
      this.xdsAddress = this.podNet.xdsAddress(this.o.xdsPort);
      this.debugAddress = this.podNet.debugAddress(this.o.debugPort);
    } else {
      const xdsPort = await preferredOrFree('127.0.0.1', this.o.xdsPort);
      if (xdsPort !== this.o.xdsPort && this.o.xdsPort > 0) {
        if (this.o.xdsPortRequired)
          throw new Error(`--xds-port ${this.o.xdsPort} is in use; free it or choose another port`);
        this.o.say(`xDS port ${this.o.xdsPort} is in use; using ${xdsPort} instead`);
      }
      this.chosenPorts.add(xdsPort);
      let debugPort = await preferredOrFree('127.0.0.1', this.o.debugPort);
      if (this.chosenPorts.has(debugPort)) debugPort = await freePortNotIn(this.chosenPorts);
      this.chosenPorts.add(debugPort);
      this.xdsAddress = `127.0.0.1:${xdsPort}`;
      this.debugAddress = `127.0.0.1:${debugPort}`;
    }
    // Not a port the gateway is about to publish nor the control plane's, which are not bound yet.
    for (const p of this.gwPorts) this.chosenPorts.add(p.published);
    this.gatewayAdmin = await freePortNotIn(this.chosenPorts);
    this.gatewayStats = await freePortNotIn(this.chosenPorts);
    this.gatewayMergedStats = await freePortNotIn(this.chosenPorts);
    if (
      !desired.resources.some(
        (r) =>
          r.kind === 'ConfigMap' && r.metadata.name === 'istio' && r.metadata.namespace === GATEWAY_NAMESPACE,
      )
    )
      writeDemoMeshConfig(paths.config);
    // Pod objects first, so the control plane's first snapshot already has every endpoint.
    const planned: { plan: PodPlan; addr: PodAddress; adminPort: number }[] = [];
    for (const plan of desired.pods) planned.push({ plan, ...(await this.place(plan)) });
    this.o.say(`starting control plane (xDS ${this.xdsAddress}, debug ${this.debugAddress})`);
    await this.startServer();
    if (this.o.prometheus) await this.startPrometheus(this.o.prometheus);
    this.o.say(`starting ingress gateway and ${planned.length} pod${planned.length === 1 ? '' : 's'}`);
    this.startGateway(await writePodToken(paths.root, this.gatewayIdentity()));
    for (const p of planned) this.startPod(p.plan, p.addr, p.adminPort, await this.podToken(p.plan));
    this.lastSignature = this.desiredSignature();
    this.pollTimer = setInterval(() => this.poll(), this.o.pollMs ?? 500);
    this.saveState();
  }

  /** Waits until the gateway and every pod are ready; returns what is still not ready when time runs out. */
  async waitReady(timeoutMs: number, progress?: (ready: number, total: number) => void): Promise<string[]> {
    let waiting: string[] = [];
    let lastReady = -1;
    let stopped = false;
    const ok = await waitUntil(
      async () => {
        // Stopping ends the wait: a poll left running would keep the process alive after Ctrl-C.
        if (this.isStopping()) return (stopped = true);
        waiting = await this.notReady();
        const total = this.pods.size + 1;
        const ready = total - new Set(waiting.map((w) => w.split(' ')[0])).size;
        if (ready !== lastReady) {
          lastReady = ready;
          progress?.(ready, total);
        }
        return waiting.length === 0;
      },
      timeoutMs,
      200,
    );
    if (stopped) return ['stopping'];
    if (ok && this.phase === 'starting') {
      this.phase = 'ready';
      this.message = '';
      this.saveState();
    } else if (!ok) {
      this.message = `not ready: ${waiting.join(', ')}`;
      this.saveState();
    }
    return ok ? [] : waiting;
  }

  /** What is not ready yet, one phrase each. */
  async notReady(): Promise<string[]> {
    const out: string[] = [];
    const checks = [...this.pods.values()].map(async (p) => {
      const r = await podReadiness(this.record(p), this.sup.get(p.sidecarProcess)?.status().pid);
      const appsUp = p.appProcesses.every((n) => this.sup.get(n)?.status().state === 'running');
      if (!r.sidecar) out.push(`${p.plan.name} (sidecar)`);
      if (!r.app || !appsUp)
        out.push(
          `${p.plan.name} (app on ${p.addr.appIp}:${p.plan.ports.map((x) => x.containerPort).join(',')})`,
        );
    });
    let gatewayLive = false;
    const [sync] = await Promise.all([
      fetchSyncz(this.debugAddress),
      ...checks,
      proxyReady(this.gatewayAdmin).then((ok) => {
        gatewayLive = ok;
        if (!ok) out.push('istio-ingressgateway');
      }),
    ]);
    // Envoy's /ready only says the first config arrived: also wait until every proxy ACKed what the
    // control plane sent it, and the gateway has endpoints for the local services its routes name,
    // so the first request through the gateway does not get 503 NR/UH.
    const synced = (nodeId: string): boolean => syncStateOf(sync, nodeId) === 'SYNCED';
    for (const p of this.pods.values())
      if (p.plan.sidecar && !synced(p.nodeId)) out.push(`${p.plan.name} (sidecar config not synced)`);
    if (gatewayLive) {
      if (!synced(gatewayNodeId(this.gatewayName))) out.push('istio-ingressgateway (config not synced)');
      else {
        const backed = servicesWithPods(
          this.desiredResources,
          [...this.pods.values()].map((p) => p.plan),
        );
        const missing = await clustersWithoutEndpoints(`127.0.0.1:${this.gatewayAdmin}`, backed);
        if (missing === null) out.push('istio-ingressgateway');
        else if (missing.length > 0)
          out.push(`istio-ingressgateway (no endpoints yet for ${missing.join(', ')})`);
      }
    }
    return out.sort();
  }

  /** Stops every process (SIGTERM, SIGKILL after each grace period) and records the run as stopped. */
  async stop(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    this.phase = 'stopping';
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.saveState();
    await this.reconciling;
    // Workloads and proxies first, the control plane last: proxies keep their config to the end.
    await Promise.all(
      this.sup
        .list()
        .filter((p) => p.spec.name !== SERVER_PROCESS)
        .map((p) => p.stop()),
    );
    await this.sup.stopAll();
    this.podNet?.tearDown();
    rmSync(this.o.paths.pods, { recursive: true, force: true });
    this.phase = 'stopped';
    this.writeStateNow();
  }

  /** SIGKILLs everything at once (for exit paths that cannot wait). */
  killNow(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.sup.killAllNow();
    this.podNet?.tearDown();
  }

  /** Marks the run as failed with a reason (state.json tells a waiting `up -d` parent). */
  fail(message: string): void {
    this.phase = 'failed';
    this.message = message;
    this.writeStateNow();
  }

  /** The run as state.json records it. */
  state(): RunState {
    const processes: Record<string, ProcessRecord> = {};
    for (const p of this.sup.list())
      processes[p.spec.name] = {
        ...p.status(),
        logFile: p.spec.logFile ?? logFileOf(this.o.paths, p.spec.name),
      };
    return {
      version: 1,
      pid: this.statePid,
      pidStartedAt: this.pidStartedAt,
      phase: this.phase,
      ...(this.message ? { message: this.message } : {}),
      manifests: this.o.manifestPath,
      startedAt: this.startedAt,
      updatedAt: Date.now(),
      xdsAddress: this.xdsAddress,
      debugAddress: this.debugAddress,
      ...(this.prometheusAddress ? { prometheusAddress: this.prometheusAddress } : {}),
      ...(this.dashboardUrl ? { dashboardUrl: this.dashboardUrl } : {}),
      gatewayPortOffset: this.o.gatewayPortOffset,
      server: { process: SERVER_PROCESS },
      gateway: {
        process: GATEWAY_PROCESS,
        nodeId: gatewayNodeId(this.gatewayName),
        adminPort: this.gatewayAdmin,
        ports: this.gwPorts,
      },
      pods: [...this.pods.values()].map((p) => this.record(p)),
      processes,
      network: this.podNet
        ? {
            mode: 'pod',
            prefix: this.podNet.net.prefix,
            subnet: this.podNet.net.subnet,
            ...(this.podNet.rootless ? { nsPid: process.pid } : { hostLink: this.podNet.net.hostLink }),
          }
        : { mode: 'host' },
    };
  }

  /** URLs to try through the gateway. */
  urls(): string[] {
    return gatewayUrls(this.desiredResources, this.o.gatewayPortOffset);
  }

  /**
   * Where Prometheus reaches a pod's app from outside the pod: the pod IP in pod network mode (the
   * app's 127.0.0.1 is inside the pod's namespace) and for a pod without a sidecar (its app binds
   * the pod IP); the app's own 127.2.x.y address behind a host-mode sidecar.
   */
  private appScrapeIp(p: RunningPod): string {
    return this.podNet === null && p.plan.sidecar ? p.addr.appIp : p.addr.podIp;
  }

  private record(p: RunningPod): PodRecord {
    return {
      name: p.plan.name,
      namespace: p.plan.namespace,
      workload: p.plan.workload,
      workloadKind: p.plan.workloadKind,
      labels: p.plan.labels,
      serviceAccount: p.plan.serviceAccount,
      podIp: p.addr.podIp,
      // Without a sidecar the app listens at the pod IP (pod-env's HOST): readiness probes it there.
      appIp: p.plan.sidecar ? p.addr.appIp : p.addr.podIp,
      ports: p.plan.ports.map((x) => x.containerPort),
      appProcesses: p.appProcesses,
      ...imageOnlyOf(p.plan),
      sidecar: {
        process: p.sidecarProcess,
        adminPort: p.adminPort,
        nodeId: p.nodeId,
        ...(p.netns ? { adminIp: p.addr.podIp } : {}),
      },
      ...(p.netns ? { netns: p.netns } : {}),
      createdAt: p.createdAt,
    };
  }

  /** Loads what the user asked for (manifests, applied, user Pods) and expands it into pods. */
  private loadDesired(): { resources: Resource[]; pods: PodPlan[]; notes: string[] } {
    const files = desiredDirs(this.o.paths).flatMap((d) => yamlFiles(d));
    const r = loadPaths(files);
    const errs = sortDiagnostics(r.diagnostics.filter((d) => d.severity === 'error'));
    const text = errs.map(formatDiagnostic).join('\n');
    if (text && text !== this.lastDiagnostics)
      this.o.say(`config has errors (those resources are ignored):\n${text}`);
    this.lastDiagnostics = text;
    const dirOf = (res: Resource): string => {
      const ann = res.metadata.annotations?.[MANIFEST_DIR_ANNOTATION];
      if (ann) return ann;
      const f = sourceOf(res)?.file;
      return (f && originalDir(this.o.paths, this.base, f)) ?? (f ? dirname(f) : this.base);
    };
    this.desiredResources = r.resources;
    const e = manifestToPods(r.resources, dirOf);
    return { resources: r.resources, pods: e.pods, notes: [...e.notes, ...e.pods.flatMap((p) => p.notes)] };
  }

  /** Picks the pod IP (its hashed slot unless busy here or elsewhere) and an admin port. */
  private async place(plan: PodPlan): Promise<{ addr: PodAddress; adminPort: number }> {
    const key = `${plan.namespace}/${plan.name}`;
    const taken = new Set([...this.pods.values()].map((p) => p.addr.podIp));
    const ports = plan.ports.map((p) => p.containerPort);
    if (this.podNet) return this.podNet.place(key, taken);
    for (;;) {
      const podIp = allocatePodIps([key], { previous: this.previousIps, taken }).get(key)!;
      const appIp = appIpOf(podIp);
      if (
        (await allBindable(podIp, [...ports, OUTBOUND_PROXY_PORT, STATS_PORT, MERGED_STATS_PORT])) &&
        (await allBindable(appIp, ports))
      ) {
        this.previousIps.set(key, podIp);
        return { addr: { podIp, appIp }, adminPort: await freePortNotIn(this.chosenPorts) };
      }
      taken.add(podIp);
    }
  }

  private async startServer(): Promise<void> {
    const argv = [
      ...this.mizzen,
      'server',
      '--config',
      this.o.paths.config,
      '--xds-address',
      this.xdsAddress,
      '--debug-address',
      this.debugAddress,
      '--ca-dir',
      caDirOf(this.o.paths.root),
    ];
    const proc = this.sup.add({
      name: SERVER_PROCESS,
      argv: this.podNet ? this.podNet.serverArgv(argv) : argv,
      env: process.env,
      logFile: logFileOf(this.o.paths, SERVER_PROCESS),
      graceMs: 5000,
    });
    const timeout = this.o.serverStartTimeoutMs ?? 30_000;
    let addr = '';
    this.serverLine = (a) => (addr = a);
    try {
      const ok = await waitUntil(
        () => {
          const s = proc.status();
          if (!addr && s.state !== 'running' && s.lastExit) {
            const how = s.lastExit.signal ?? `code ${s.lastExit.code}`;
            throw new Error(`the control plane exited (${how}) before it listened; see ${proc.spec.logFile}`);
          }
          return addr !== '';
        },
        timeout,
        50,
      );
      if (!ok)
        throw new Error(`the control plane did not report "xds listening on" within ${timeout / 1000}s`);
      this.xdsAddress = addr;
    } finally {
      this.serverLine = null;
    }
  }

  /** Every proxy's Prometheus endpoint and the control plane's /metrics, for targets.json. */
  scrapeTargets(): ScrapeTarget[] {
    const out: ScrapeTarget[] = [
      {
        address: this.debugAddress,
        path: '/metrics',
        labels: { job: 'istiod', app: 'istiod', namespace: GATEWAY_NAMESPACE },
      },
      {
        // Istio's gateway pods carry prometheus.io annotations for the agent's merged port.
        address: `127.0.0.1:${this.gatewayMergedStats}`,
        path: '/stats/prometheus',
        labels: {
          job: 'kubernetes-pods',
          namespace: GATEWAY_NAMESPACE,
          pod: this.gatewayName,
          app: 'istio-ingressgateway',
        },
      },
    ];
    for (const p of this.pods.values())
      out.push(
        ...podScrapeTargets(
          p.plan,
          p.addr.podIp,
          this.appScrapeIp(p),
          podScrapePlan(p.plan.annotations, p.plan.sidecar, this.prometheusMerge()),
        ),
      );
    return out;
  }

  /** Starts Prometheus on 127.0.0.1 (port 9090 unless taken) scraping targets.json. */
  private async startPrometheus(o: { scrapeIntervalS: number; port: number }): Promise<void> {
    const bin = findPrometheus();
    if (!bin)
      throw new Error(
        '--with-prometheus needs the prometheus binary on PATH (Debian: apt-get install prometheus)',
      );
    let port = await preferredOrFree('127.0.0.1', o.port);
    if (this.chosenPorts.has(port)) port = await freePortNotIn(this.chosenPorts);
    this.chosenPorts.add(port);
    if (port !== o.port) this.o.say(`127.0.0.1:${o.port} is in use: Prometheus listens on 127.0.0.1:${port}`);
    this.prometheusAddress = `127.0.0.1:${port}`;
    writeTargets(this.o.paths.root, this.scrapeTargets());
    const config = writePrometheusConfig(this.o.paths.root, o.scrapeIntervalS);
    this.sup.add({
      name: PROMETHEUS_PROCESS,
      argv: prometheusArgv(bin, this.o.paths.root, config, this.prometheusAddress),
      env: process.env,
      logFile: logFileOf(this.o.paths, PROMETHEUS_PROCESS),
      graceMs: 5000,
    });
    this.o.say(
      `starting Prometheus at http://${this.prometheusAddress} (scrape every ${o.scrapeIntervalS}s)`,
    );
  }

  /** Where Prometheus listens (`127.0.0.1:port`), '' when `up` started none. */
  get prometheus(): string {
    return this.prometheusAddress;
  }

  /** Records the dashboard's URL in state.json (`up --dashboard`). */
  setDashboardUrl(url: string): void {
    this.dashboardUrl = url;
    this.writeStateNow();
  }

  /** The gateway's pod identity (Istio's default install: istio-system/istio-ingressgateway-service-account). */
  private gatewayIdentity(): { name: string; namespace: string; serviceAccount: string } {
    const md = gatewayMetadata(this.gatewayName, this.o.gatewayPortOffset);
    return {
      name: this.gatewayName,
      namespace: String(md.NAMESPACE),
      serviceAccount: String(md.SERVICE_ACCOUNT),
    };
  }

  /** The pod's token file (null for a pod without a sidecar: nothing asks the CA for it). */
  private async podToken(plan: PodPlan): Promise<string | null> {
    return plan.sidecar ? writePodToken(this.o.paths.root, plan) : null;
  }

  private startGateway(tokenFile: string): void {
    this.sup.add({
      name: GATEWAY_PROCESS,
      argv: [
        ...this.mizzen,
        'proxy',
        'router',
        '--xds-address',
        this.xdsAddress,
        '--id',
        gatewayNodeId(this.gatewayName),
        '--metadata',
        JSON.stringify(gatewayMetadata(this.gatewayName, this.o.gatewayPortOffset)),
        '--admin-port',
        String(this.gatewayAdmin),
        '--stats-address',
        `127.0.0.1:${this.gatewayStats}`,
        '--merged-stats-address',
        `127.0.0.1:${this.gatewayMergedStats}`,
        '--token-file',
        tokenFile,
      ],
      env: process.env,
      logFile: logFileOf(this.o.paths, GATEWAY_PROCESS),
      graceMs: 5000,
    });
  }

  private writePodObject(p: RunningPod): void {
    mkdirSync(this.o.paths.pods, { recursive: true });
    writeFileSync(
      join(this.o.paths.pods, podFileName(p.plan)),
      podYaml(p.plan, p.addr, { ready: p.ready, createdAt: p.createdAt }),
    );
  }

  private startPod(plan: PodPlan, addr: PodAddress, adminPort: number, tokenFile: string | null): void {
    const netns = this.podNet ? this.podNet.createPod(plan, addr.podIp, this.o.say) : '';
    const pod: RunningPod = {
      plan,
      addr,
      adminPort,
      nodeId: sidecarNodeId(plan, addr.podIp),
      createdAt: Date.now(),
      sidecarProcess: `${plan.name} sidecar`,
      appProcesses: plan.containers.map((c) => appProcessName(plan, c.name)),
      netns,
      ready: true,
    };
    this.pods.set(plan.name, pod);
    this.writePodObject(pod);
    const md = sidecarMetadata(plan, addr);
    const sidecarArgv = [
      ...this.mizzen,
      'proxy',
      'sidecar',
      '--xds-address',
      this.xdsAddress,
      '--id',
      pod.nodeId,
      '--metadata',
      JSON.stringify(this.podNet ? this.podNet.sidecarMetadata(md) : md),
      '--admin-port',
      String(adminPort),
      '--stats-address',
      `${addr.podIp}:${STATS_PORT}`,
      ...(plan.sidecar ? ['--merged-stats-address', `${addr.podIp}:${MERGED_STATS_PORT}`] : []),
      ...(tokenFile ? ['--token-file', tokenFile] : []),
    ];
    const scrape = podScrapePlan(plan.annotations, plan.sidecar, this.prometheusMerge());
    const sidecarEnv = { ...process.env };
    delete sidecarEnv[PROMETHEUS_ANNOTATIONS_ENV];
    if (scrape.annotationsEnv !== null) sidecarEnv[PROMETHEUS_ANNOTATIONS_ENV] = scrape.annotationsEnv;
    this.sup.add({
      name: pod.sidecarProcess,
      argv: this.podNet ? this.podNet.sidecarArgv(netns, addr.podIp, sidecarArgv) : sidecarArgv,
      env: sidecarEnv,
      logFile: logFileOf(this.o.paths, pod.sidecarProcess),
      graceMs: 5000,
    });
    const lookup = lookupIn(this.desiredResources);
    for (const c of plan.containers) {
      const { env, notes } = containerEnv(plan, c, addr, lookup);
      for (const n of notes) this.o.say(n);
      const name = appProcessName(plan, c.name);
      const argv = expandArgv(c.argv, env);
      this.sup.add({
        name,
        argv: this.podNet ? this.podNet.appArgv(netns, argv) : argv,
        cwd: existsSync(c.cwd) ? c.cwd : this.base,
        env: this.podNet ? this.podNet.appEnv(process.env, env, c) : { ...process.env, ...env },
        logFile: logFileOf(this.o.paths, name),
        graceMs: plan.gracePeriodSeconds * 1000,
        restart: plan.restartPolicy,
      });
    }
  }

  private async stopPod(name: string): Promise<void> {
    const p = this.pods.get(name);
    if (!p) return;
    this.pods.delete(name);
    rmSync(join(this.o.paths.pods, podFileName(p.plan)), { force: true });
    await Promise.all([...p.appProcesses, p.sidecarProcess].map((n) => this.sup.remove(n)));
    if (p.netns) this.podNet?.deletePod(p.netns);
  }

  /** A pod is Ready for the registry while all its app processes run (a crash takes it out of the endpoints). */
  private processChanged(proc: SupervisedProcess): void {
    for (const p of this.pods.values()) {
      if (!p.appProcesses.includes(proc.spec.name)) continue;
      const ready = p.appProcesses.every((n) => {
        const s = this.sup.get(n)?.status().state;
        return s === undefined || s === 'running';
      });
      if (ready !== p.ready && !this.isStopping()) {
        p.ready = ready;
        this.writePodObject(p);
      }
    }
    this.saveState();
  }

  private desiredSignature(): string {
    return desiredDirs(this.o.paths)
      .flatMap((d) => yamlFiles(d))
      .map((f) => {
        const st = statSync(f, { throwIfNoEntry: false });
        return st ? `${f}:${st.mtimeMs}:${st.size}` : f;
      })
      .join('|');
  }

  private poll(): void {
    let sig: string;
    try {
      sig = this.desiredSignature();
    } catch {
      return; // a file vanished between listing and stat: next tick
    }
    if (sig === this.lastSignature) return;
    this.lastSignature = sig;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = this.reconcile().finally(() => {
      this.reconciling = null;
      if (this.reconcileAgain) {
        this.reconcileAgain = false;
        this.lastSignature = '';
        this.poll();
      }
    });
  }

  /** Starts pods that were added, stops those removed, replaces those whose spec changed. */
  private async reconcile(): Promise<void> {
    if (this.isStopping()) return;
    try {
      const desired = this.loadDesired();
      this.gwPorts = gatewayPorts(desired.resources, this.o.gatewayPortOffset);
      const want = new Map(desired.pods.map((p) => [p.name, p]));
      for (const [name, p] of [...this.pods]) {
        const w = want.get(name);
        if (w && w.fingerprint === p.plan.fingerprint) continue;
        this.o.say(`pod ${name}: ${w ? 'changed, restarting' : 'deleted'}`);
        await this.stopPod(name);
      }
      for (const plan of desired.pods) {
        if (this.pods.has(plan.name) || this.isStopping()) continue;
        const { addr, adminPort } = await this.place(plan);
        if (this.isStopping()) return;
        const token = await this.podToken(plan);
        if (this.isStopping()) return;
        this.startPod(plan, addr, adminPort, token);
        this.o.say(`pod ${plan.name}: created (${addr.podIp})`);
      }
      this.saveState();
    } catch (err) {
      this.o.say(`reconcile failed: ${(err as Error).message}`);
    }
  }

  private isStopping(): boolean {
    return this.phase === 'stopping' || this.phase === 'stopped';
  }

  /** Writes state.json soon (changes come in bursts). */
  private saveState(): void {
    if (this.stateTimer) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      this.writeStateNow();
    }, 50);
  }

  private writeStateNow(): void {
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    try {
      writeState(this.o.paths, this.state());
      if (this.debugAddress) writeTargets(this.o.paths.root, this.scrapeTargets());
    } catch (err) {
      this.o.say(`cannot write ${this.o.paths.state}: ${(err as Error).message}`);
    }
  }
}
