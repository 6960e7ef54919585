// Pod network mode of `mizzen up` (Linux, root): every pod gets its own network namespace with its own
// IP on a bridge that lives in the run's own "node" namespace; the root namespace only gets one veth
// (and the connected route of its address) so the gateway and the CLI can reach pods. Everything is
// made with iproute2 and iptables-restore and removed by prefix.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_GID } from './capture-rules.js';
import { fnv1a } from './pod-ip.js';
import { removeEgress } from './pod-egress.js';
import { createHeldNetns, deleteHeldNetns, inHeldNetns } from './pod-netns-held.js';

/**
 * Where mesh subnets come from: 198.18.0.0/15, the block RFC 2544 reserves for benchmarking (never
 * assigned to a real network). Each run takes one /20 of it that no route of this machine overlaps.
 */
export const MESH_RANGE = '198.18.0.0/15';
const RANGE_BASE = ipToInt('198.18.0.0');
const SUBNET_BITS = 20;
const SUBNET_SIZE = 1 << (32 - SUBNET_BITS);
const SUBNETS = (1 << 17) / SUBNET_SIZE;
/** Host numbers below this are infrastructure (.1 node, .2 root side); pods take the rest. */
const FIRST_POD_HOST = 16;
/** The bridge inside the node namespace. */
export const BRIDGE = 'mzbr0';
/** Where the node namespace listens (fixed: the namespace is the run's own). */
export const NODE_PORTS = { xds: 15010, debug: 15014, dns: 53 } as const;
/** The sidecar's admin, on the pod IP (pods never collide, so a fixed port). */
export const POD_ADMIN_PORT = 15000;

/** The network of one run. */
export interface MeshNetwork {
  /** Names every namespace of the run: `mizzen-<id>-`. */
  readonly prefix: string;
  /** The node namespace (bridge, control plane, DNS). */
  readonly nodeNs: string;
  /** The veth in the root namespace. */
  readonly hostLink: string;
  /** e.g. 198.18.32.0/20. */
  readonly subnet: string;
  /** The bridge's address in the node namespace (control plane, DNS, pods' default gateway). */
  readonly nodeIp: string;
  /** The root namespace's address on the mesh subnet. */
  readonly hostIp: string;
  /**
   * Rootless mode (rootless.ts): this process's own namespace is the node namespace, pods' namespaces
   * are held under this directory of the run, and there is no link to the host.
   */
  readonly heldDir?: string;
}

/** Why pod network mode cannot run here, or null when it can. */
export function podNetworkUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (run `up` as root)';
  for (const tool of ['ip', 'iptables-restore', 'setpriv'])
    if (!onPath(tool))
      return `${tool} is not installed (Debian: apt-get install iproute2 iptables util-linux)`;
  // A real namespace with a nat table, made and removed: containers without CAP_SYS_ADMIN, kernels
  // without netfilter NAT and the like fail here, not halfway through `up`.
  const probe = `mizzen-probe-${process.pid}`;
  try {
    run(['ip', 'netns', 'add', probe]);
    run(['ip', 'netns', 'exec', probe, 'iptables-restore'], '*nat\nCOMMIT\n');
  } catch (e) {
    return `network namespaces with iptables do not work here: ${firstLine(e)}`;
  } finally {
    removeNs(probe);
  }
  return null;
}

export function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => d && existsSync(join(d, tool)));
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: Buffer | string; message?: string };
  const text = String(err.stderr ?? '').trim() || String(err.message ?? e);
  return text.split('\n')[0];
}

function run(argv: readonly string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 10_000,
  });
}

/** Runs a command and says which one failed. */
function must(argv: readonly string[], input?: string): void {
  try {
    run(argv, input);
  } catch (e) {
    throw new Error(`${argv.join(' ')}: ${firstLine(e)}`);
  }
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The run's names (from its run directory) and a /20 of {@link MESH_RANGE} no route here overlaps;
 * `rootless`: this namespace is the node's and pods are held under `<run>/netns`.
 */
export function chooseNetwork(runRoot: string, rootless = false): MeshNetwork {
  const id = fnv1a(runRoot).toString(16).padStart(8, '0').slice(0, 6);
  const prefix = `mizzen-${id}-`;
  const routes = rootRoutes();
  for (let i = 0; i < SUBNETS; i++) {
    const base = RANGE_BASE + ((fnv1a(id) + i) % SUBNETS) * SUBNET_SIZE;
    if (routes.some(([b, len]) => overlaps(b, len, base, SUBNET_BITS))) continue;
    return {
      prefix,
      nodeNs: rootless ? '' : `${prefix}node`,
      ...(rootless ? { heldDir: join(runRoot, 'netns') } : {}),
      hostLink: `mz-${id}`,
      subnet: `${intToIp(base)}/${SUBNET_BITS}`,
      nodeIp: intToIp(base + 1),
      hostIp: intToIp(base + 2),
    };
  }
  throw new Error(`every /${SUBNET_BITS} of ${MESH_RANGE} overlaps a route of this machine`);
}

/** IPv4 destinations of the root namespace's routes, as [base, prefix length]. */
function rootRoutes(): [number, number][] {
  const out: [number, number][] = [];
  for (const line of run(['ip', '-4', '-o', 'route', 'show', 'table', 'all']).split('\n')) {
    const t = line.trim().split(/\s+/);
    const dst = /^(unicast|local|broadcast|anycast|multicast|blackhole|unreachable|prohibit)$/.test(t[0])
      ? t[1]
      : t[0];
    if (!dst || dst === 'default') continue;
    const [ip, len] = dst.split('/');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) out.push([ipToInt(ip), len === undefined ? 32 : Number(len)]);
  }
  return out;
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  const len = Math.min(alen, blen);
  if (len === 0) return true;
  const mask = len === 32 ? 0xffffffff : ~((1 << (32 - len)) - 1) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** A pod IP for `key` (namespace/pod): its hashed host number, else the next free one. */
export function podIpFor(net: MeshNetwork, key: string, taken: ReadonlySet<string>): string {
  const base = ipToInt(net.subnet.split('/')[0]);
  const slots = SUBNET_SIZE - FIRST_POD_HOST - 1;
  for (let i = 0, s = fnv1a(key) % slots; i < slots; i++, s = (s + 1) % slots) {
    const ip = intToIp(base + FIRST_POD_HOST + s);
    if (!taken.has(ip)) return ip;
  }
  throw new Error(`no free pod IP left in ${net.subnet}`);
}

/** Removes every namespace, veth and /etc/netns entry a run with this prefix made (leftovers of a crash too). */
export function removeNetwork(prefix: string, hostLink: string): void {
  removeEgress(prefix);
  for (const ns of listNetns()) if (ns.startsWith(prefix)) removeNs(ns);
  try {
    run(['ip', 'link', 'del', hostLink]);
  } catch {
    // gone with the node namespace (a veth dies with its peer)
  }
}

function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

function removeNs(ns: string): void {
  try {
    run(['ip', 'netns', 'del', ns]);
  } catch {
    // already gone
  }
  rmSync(join('/etc/netns', ns), { recursive: true, force: true });
}

/** `ip` in the node namespace. */
function nodeIp(net: MeshNetwork): string[] {
  return net.nodeNs ? ['ip', '-n', net.nodeNs] : ['ip'];
}

/** The node namespace with its bridge, and the root namespace's veth onto it (rootless: the bridge only). */
export function createNode(net: MeshNetwork): void {
  const len = net.subnet.split('/')[1];
  const n = nodeIp(net);
  if (net.heldDir !== undefined) {
    must([...n, 'link', 'set', 'lo', 'up']);
    must([...n, 'link', 'add', BRIDGE, 'type', 'bridge']);
    must([...n, 'addr', 'add', `${net.nodeIp}/${len}`, 'dev', BRIDGE]);
    must([...n, 'link', 'set', BRIDGE, 'up']);
    return;
  }
  must(['ip', 'netns', 'add', net.nodeNs]);
  must([...n, 'link', 'set', 'lo', 'up']);
  must([...n, 'link', 'add', BRIDGE, 'type', 'bridge']);
  must([...n, 'addr', 'add', `${net.nodeIp}/${len}`, 'dev', BRIDGE]);
  must([...n, 'link', 'set', BRIDGE, 'up']);
  must(['ip', 'link', 'add', net.hostLink, 'type', 'veth', 'peer', 'name', 'host0', 'netns', net.nodeNs]);
  must([...n, 'link', 'set', 'host0', 'master', BRIDGE, 'up']);
  must(['ip', 'addr', 'add', `${net.hostIp}/${len}`, 'dev', net.hostLink]);
  must(['ip', 'link', 'set', net.hostLink, 'up']);
}

/** What goes into a pod's namespace. */
export interface PodNetns {
  readonly name: string;
  readonly namespace: string;
  readonly podIp: string;
  /** iptables-restore input (capture-rules.ts). */
  readonly rules: string;
}

/** The namespace name of a pod. */
export function podNsName(net: MeshNetwork, pod: { name: string; namespace: string }): string {
  return `${net.prefix}${pod.namespace}-${pod.name}`;
}

/**
 * Creates a pod's namespace: veth on the bridge, its IP, default route, capture rules, resolv.conf and
 * hosts; returns its name (rootless: the directory that names it).
 */
export function createPodNs(net: MeshNetwork, pod: PodNetns): string {
  const held = net.heldDir !== undefined ? join(net.heldDir, `${pod.namespace}-${pod.name}`) : null;
  const ns = held ?? podNsName(net, pod);
  if (held === null) removeNs(ns);
  const len = net.subnet.split('/')[1];
  const veth = `v${(ipToInt(pod.podIp) - ipToInt(net.subnet.split('/')[0])).toString(16)}`;
  const n = nodeIp(net);
  try {
    run([...n, 'link', 'del', veth]);
  } catch {
    // not left over
  }
  let peer: string;
  let inPod: (argv: readonly string[]) => string[];
  if (held !== null) {
    const pid = createHeldNetns(held);
    peer = String(pid);
    inPod = (argv) => ['nsenter', `--net=/proc/${pid}/ns/net`, '--', ...argv];
  } else {
    must(['ip', 'netns', 'add', ns]);
    peer = ns;
    inPod = (argv) => ['ip', 'netns', 'exec', ns, ...argv];
  }
  const p = held !== null ? inPod(['ip']) : ['ip', '-n', ns];
  must([...p, 'link', 'set', 'lo', 'up']);
  must([...n, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
  must([...n, 'link', 'set', veth, 'master', BRIDGE, 'up']);
  must([...p, 'addr', 'add', `${pod.podIp}/${len}`, 'dev', 'eth0']);
  must([...p, 'link', 'set', 'eth0', 'up']);
  must([...p, 'route', 'add', 'default', 'via', net.nodeIp]);
  must(inPod(['iptables-restore']), pod.rules);
  const etc = held ?? join('/etc/netns', ns);
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'resolv.conf'), resolvConf(net.nodeIp, pod.namespace));
  writeFileSync(join(etc, 'hosts'), `127.0.0.1\tlocalhost\n${pod.podIp}\t${pod.name}\n`);
  return ns;
}

/** Removes one pod's namespace (its veth goes with it). */
export function deletePodNs(ns: string): void {
  if (ns.startsWith('/')) deleteHeldNetns(ns);
  else removeNs(ns);
}

/** A pod's /etc/resolv.conf, as the kubelet writes it (search path of its namespace, ndots 5). */
export function resolvConf(nameserver: string, namespace: string): string {
  return (
    `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\n` +
    `nameserver ${nameserver}\n` +
    'options ndots:5 timeout:1 attempts:2\n'
  );
}

/**
 * argv that runs `argv` inside a pod's namespace (`ip netns exec` also binds /etc/netns/<ns>/* over
 * /etc); a rootless pod's (a directory) through its holder.
 */
export function inNetns(ns: string, argv: readonly string[]): string[] {
  return ns.startsWith('/') ? inHeldNetns(ns, argv) : ['ip', 'netns', 'exec', ns, ...argv];
}

/** argv that runs `argv` in the proxy's group, so capture leaves its own connections alone. */
export function asProxy(argv: readonly string[]): string[] {
  return ['setpriv', `--regid=${PROXY_GID}`, '--clear-groups', ...argv];
}
