// `--network=pod`: how `mizzen up` places a mesh in network namespaces (pod-network.ts makes them):
// the control plane and DNS in the node namespace, each pod's app and sidecar in the pod's own, the
// sidecar in Istio's proxy group with capture rules in front of it (capture-rules.ts).
import { capturePlan, captureRules } from './capture-rules.js';
import type { ContainerPlan, PodPlan } from './manifest-to-pods.js';
import type { PodAddress } from './pod-env.js';
import {
  asProxy,
  chooseNetwork,
  createNode,
  createPodNs,
  deletePodNs,
  inNetns,
  NODE_PORTS,
  podIpFor,
  POD_ADMIN_PORT,
  podNetworkUnavailable,
  removeNetwork,
  type MeshNetwork,
} from './pod-network.js';
import { enableEgress } from './pod-egress.js';
import { deleteAllHeldNetns } from './pod-netns-held.js';
import { rootlessOuterPid, rootlessUnavailable } from './rootless.js';
import { rmSync } from 'node:fs';

/** `--network` values, named after Kubernetes' hostNetwork: pods get their own network, or share the host's. */
export type NetworkMode = 'pod' | 'host';

/**
 * The mode to use: the asked one, else pod where it can run — as root, else rootless in a user
 * namespace (rootless.ts); `reason` says why pod mode cannot.
 */
export function pickNetworkMode(asked: NetworkMode | undefined): {
  mode: NetworkMode;
  reason: string;
  rootless: boolean;
} {
  if (asked === 'host') return { mode: 'host', reason: '', rootless: false };
  // The inner `up` of a rootless run: its outer checked, and here it is root of its own namespace.
  if (rootlessOuterPid() !== null) return { mode: 'pod', reason: '', rootless: true };
  const isRoot = process.getuid?.() === 0;
  const why = isRoot ? podNetworkUnavailable() : rootlessUnavailable();
  if (why === null) return { mode: 'pod', reason: '', rootless: !isRoot };
  const reason = isRoot ? why : `not root, and rootless mode cannot run: ${why}`;
  if (asked === 'pod') throw new Error(`--network=pod cannot run here: ${reason}`);
  return { mode: 'host', reason, rootless: false };
}

/** Inherited variables a pod must not see: the host's proxies (capture replaces them) and app address. */
const HOST_ONLY_ENV = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'NO_PROXY',
  'no_proxy',
  'HOST',
];

/** One run's pod network. */
export class PodNetworkMode {
  readonly net: MeshNetwork;

  /**
   * @param dnsUpstream the control plane's --dns-upstream (`H:P,...` or `none`); null: its default,
   *   the host's resolv.conf nameservers.
   */
  /** Rootless (rootless.ts): this process's namespace is the node's; pods cannot reach beyond the machine. */
  readonly rootless: boolean;
  private readonly dnsUpstream: string | null;

  constructor(runRoot: string, dnsUpstream: string | null = null, rootless = false) {
    this.rootless = rootless;
    this.net = chooseNetwork(runRoot, rootless);
    // Rootless pods have no route off the machine: names outside the mesh fail at once, not after a timeout.
    this.dnsUpstream = rootless ? 'none' : dnsUpstream;
  }

  /**
   * Clears what a crashed earlier run of this directory left, then makes the node namespace with
   * outbound NAT; returns what pods can reach beyond the mesh (a line for `up`).
   */
  setUp(): string {
    if (this.net.heldDir !== undefined) {
      rmSync(this.net.heldDir, { recursive: true, force: true });
      createNode(this.net);
      return 'rootless: pods reach the mesh only (no route off this machine without root)';
    }
    removeNetwork(this.net.prefix, this.net.hostLink);
    createNode(this.net);
    return enableEgress(this.net);
  }

  /** Removes every namespace, veth and /etc/netns entry of the run (rootless: ends the namespace holders). */
  tearDown(): void {
    if (this.net.heldDir !== undefined) {
      deleteAllHeldNetns();
      rmSync(this.net.heldDir, { recursive: true, force: true });
      return;
    }
    removeNetwork(this.net.prefix, this.net.hostLink);
  }

  /** xDS in the node namespace: the asked port, else 15010 (0 too: nothing else listens there). */
  xdsAddress(port: number): string {
    return `${this.net.nodeIp}:${port || NODE_PORTS.xds}`;
  }

  /** Debug HTTP in the node namespace: the asked port, else 15014. */
  debugAddress(port: number): string {
    return `${this.net.nodeIp}:${port || NODE_PORTS.debug}`;
  }

  /** The control plane runs in the node namespace and answers the pods' DNS there. */
  serverArgv(argv: readonly string[]): string[] {
    const args = [
      ...argv,
      '--dns-address',
      `${this.net.nodeIp}:${NODE_PORTS.dns}`,
      ...(this.dnsUpstream !== null ? ['--dns-upstream', this.dnsUpstream] : []),
    ];
    return this.net.nodeNs ? inNetns(this.net.nodeNs, args) : args;
  }

  /** The pod's address: its own IP; the app is reached on the pod's loopback, as Istio's inbound does. */
  place(key: string, taken: ReadonlySet<string>): { addr: PodAddress; adminPort: number } {
    return { addr: { podIp: podIpFor(this.net, key, taken), appIp: '127.0.0.1' }, adminPort: POD_ADMIN_PORT };
  }

  /** Makes the pod's namespace with capture rules from its annotations; returns its name. */
  createPod(plan: PodPlan, podIp: string, say: (line: string) => void): string {
    const parsed = capturePlan(plan.annotations);
    for (const n of parsed.notes) say(`${plan.name}: ${n}`);
    // A pod without a sidecar: its proxy only stands in for kube-proxy (service addresses → pods,
    // plaintext), so only outbound is captured; inbound reaches the app directly, as in Istio.
    const capture = plan.sidecar ? parsed.plan : { ...parsed.plan, includeInboundPorts: [] };
    return createPodNs(this.net, {
      name: plan.name,
      namespace: plan.namespace,
      podIp,
      rules: captureRules(capture),
    });
  }

  deletePod(ns: string): void {
    deletePodNs(ns);
  }

  /** `mizzen proxy sidecar …` inside the pod, in the proxy group, admin on the pod IP. */
  sidecarArgv(ns: string, podIp: string, argv: readonly string[]): string[] {
    return inNetns(ns, asProxy([...argv, '--admin-address', podIp]));
  }

  /** Node metadata of a captured sidecar (interception REDIRECT, the app on loopback). */
  sidecarMetadata(md: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...md, INTERCEPTION_MODE: 'REDIRECT' };
    delete out['MIZZEN_APP_HOST'];
    return out;
  }

  /** A container's environment: what the manifest gives and the pod's identity, no proxy settings. */
  appEnv(
    inherited: Readonly<Record<string, string | undefined>>,
    podEnv: Readonly<Record<string, string>>,
    c: ContainerPlan,
  ): Record<string, string | undefined> {
    const declared = new Set(c.env.map((e) => e.name));
    const env: Record<string, string | undefined> = { ...inherited, ...podEnv };
    for (const k of HOST_ONLY_ENV) if (!declared.has(k)) delete env[k];
    return env;
  }

  appArgv(ns: string, argv: readonly string[]): string[] {
    return inNetns(ns, argv);
  }
}
