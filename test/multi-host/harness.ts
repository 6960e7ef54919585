// A multi-host test bed on one machine: each "host" is a network namespace with its own pod subnet,
// joined to the others through a router namespace (a LAN bridge plus a route per host's pod subnet).
// Pods are namespaces on their host's bridge, made by pod mode's own code (istio-init's capture
// rules, resolv.conf), each running a real app and a real `mizzen proxy sidecar`. One control plane
// (`mizzen server`) runs in the root namespace on its own LAN address, reachable from every host.
// Everything is named after one prefix and removed by it, leftovers of a crashed run included.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from '../../src/cli/test-util.js';
import { freePort } from '../../src/config/etcd/test-util.js';
import { capturePlan, captureRules } from '../../src/local/capture-rules.js';
import {
  asProxy,
  BRIDGE,
  chooseNetwork,
  createPodNs,
  inNetns,
  intToIp,
  ipToInt,
  podNetworkUnavailable,
  removeNetwork,
  resolvConf,
  type MeshNetwork,
} from '../../src/local/pod-network.js';

/** The test's apps (echo server, fetch client). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/multi-host/', import.meta.url));
/** Where the control plane listens on its LAN address (the address is the test's own). */
export const CP_PORTS = { xds: 15010, debug: 15014, dns: 53 } as const;
/** The port every echo app binds (0.0.0.0) and the Service exposes. */
export const APP_PORT = 8000;

/**
 * The sidecars' HTTP/2 keepalive to the control plane (Envoy's connection_keepalive on the xDS cluster):
 * short, so a cut-off host notices within seconds that its stream is dead and reconnects when its link
 * returns, instead of after Istio's 30 s + 10 s.
 */
export const XDS_KEEPALIVE = { interval: '2s', timeout: '2s' } as const;

/** Why the bed cannot be built here (pod mode's requirements plus etcd), or null. */
export function multiHostUnavailable(): string | null {
  const why = podNetworkUnavailable();
  if (why) return why;
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return 'etcd is not installed (Debian: apt-get install etcd-server); the control plane keeps its WorkloadEntries there';
  }
  return null;
}

function sh(argv: readonly string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: 'pipe', timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${String(err.stderr ?? '').trim() || err.message}`);
  }
}

/** A process the bed started (own process group, so it and its children die together). */
export class Proc {
  private out = '';
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer): void => {
      this.out = (this.out + d.toString()).slice(-32_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  /** The last 32 kB of stdout and stderr. */
  output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILLs the process group and waits for the exit. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  /** SIGKILLs the process group (synchronous: usable in an exit handler). */
  killNow(): void {
    if (this.running && this.child.pid)
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
  }
}

/** One host: a namespace with a LAN address and a bridge for its pods. */
export interface Host {
  readonly name: string;
  readonly ns: string;
  readonly lanIp: string;
  /** Its cable: the router's end of the veth (what `partition` takes down). */
  readonly link: string;
  /** Its pod subnet, in the shape pod mode's createPodNs takes (the host is the "node"). */
  readonly pods: MeshNetwork;
  nextPod: number;
}

/** A pod on a host: its namespace, IP, sidecar and app. */
export interface Pod {
  readonly name: string;
  readonly host: Host;
  readonly ns: string;
  readonly ip: string;
  readonly nodeId: string;
  readonly sidecar: Proc;
  readonly app: Proc | null;
}

/** What a pod runs. */
export interface PodSpec {
  /** Workload labels (the sidecar's LABELS; auto-registered entries take them). */
  readonly labels: Readonly<Record<string, string>>;
  /** AUTO_REGISTER_GROUP: the WorkloadGroup the sidecar registers with. */
  readonly group?: string;
  /** The bootstrap's node.locality (as istio-agent writes it on a VM), or none. */
  readonly nodeLocality?: { region: string; zone: string };
  /** The app's argv (run in the pod, unmodified: no proxy settings), or none. */
  readonly app?: readonly string[];
}

/** A command run inside a pod. */
export interface ExecResult {
  code: number;
  out: string;
  err: string;
}

/** The bed: router, hosts, pods, control plane. */
export class MultiHost {
  readonly net: MeshNetwork;
  readonly routerNs: string;
  /** The root namespace's LAN address: the control plane's. */
  readonly cpIp: string;
  readonly hosts = new Map<string, Host>();
  private readonly procs: Proc[] = [];
  private readonly lanBase: number;
  private readonly lanLen = 24;

  /** `seed` names the bed (stable per checkout, so a crashed run's leftovers are found and removed). */
  constructor(
    seed: string,
    private readonly tmp: string,
  ) {
    // Leftovers of a crashed run hold routes that would push chooseNetwork to another subnet.
    const first = chooseNetwork(seed);
    removeNetwork(first.prefix, first.hostLink);
    this.net = chooseNetwork(seed);
    this.routerNs = `${this.net.prefix}router`;
    this.lanBase = ipToInt(this.net.subnet.split('/')[0]);
    this.cpIp = intToIp(this.lanBase + 2);
    mkdirSync(tmp, { recursive: true });
    // If the test process ends without `destroy` (an uncaught error, process.exit), still kill what
    // it started and remove the namespaces: both steps are synchronous.
    process.once('exit', this.onExit);
  }

  private readonly onExit = (): void => {
    for (const p of this.procs) p.killNow();
    removeNetwork(this.net.prefix, this.net.hostLink);
  };

  private get routerIp(): string {
    return intToIp(this.lanBase + 1);
  }

  /** The router namespace with the LAN bridge, and the root namespace's cable onto it. */
  createRouter(): void {
    const r = ['ip', '-n', this.routerNs];
    sh(['ip', 'netns', 'add', this.routerNs]);
    sh([...r, 'link', 'set', 'lo', 'up']);
    sh([...r, 'link', 'add', BRIDGE, 'type', 'bridge']);
    sh([...r, 'addr', 'add', `${this.routerIp}/${this.lanLen}`, 'dev', BRIDGE]);
    sh([...r, 'link', 'set', BRIDGE, 'up']);
    sh(inNetns(this.routerNs, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']));
    const link = this.net.hostLink;
    sh(['ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'cp0', 'netns', this.routerNs]);
    sh([...r, 'link', 'set', 'cp0', 'master', BRIDGE, 'up']);
    sh(['ip', 'addr', 'add', `${this.cpIp}/${this.lanLen}`, 'dev', link]);
    sh(['ip', 'link', 'set', link, 'up']);
    // The one route the root namespace gets: the hosts' pod subnets, through the router.
    sh(['ip', 'route', 'add', this.net.subnet, 'via', this.routerIp]);
  }

  /** Host number `i` (1, 2, …): LAN address .(10+i), pod subnet the i-th /24 after the LAN. */
  addHost(name: string): Host {
    const i = this.hosts.size + 1;
    const ns = `${this.net.prefix}host-${name}`;
    const lanIp = intToIp(this.lanBase + 10 + i);
    const podBase = this.lanBase + i * 256;
    const link = `lan-${name}`;
    const r = ['ip', '-n', this.routerNs];
    const h = ['ip', '-n', ns];
    sh(['ip', 'netns', 'add', ns]);
    sh([...h, 'link', 'set', 'lo', 'up']);
    sh([...r, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh([...r, 'link', 'set', link, 'master', BRIDGE, 'up']);
    sh([...h, 'addr', 'add', `${lanIp}/${this.lanLen}`, 'dev', 'eth0']);
    sh([...h, 'link', 'set', 'eth0', 'up']);
    sh([...h, 'route', 'add', 'default', 'via', this.routerIp]);
    sh([...h, 'link', 'add', BRIDGE, 'type', 'bridge']);
    sh([...h, 'addr', 'add', `${intToIp(podBase + 1)}/24`, 'dev', BRIDGE]);
    sh([...h, 'link', 'set', BRIDGE, 'up']);
    sh(inNetns(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']));
    sh([...r, 'route', 'add', `${intToIp(podBase)}/24`, 'via', lanIp]);
    const host: Host = {
      name,
      ns,
      lanIp,
      link,
      pods: {
        prefix: `${this.net.prefix}${name}-`,
        nodeNs: ns,
        hostLink: '',
        subnet: `${intToIp(podBase)}/24`,
        nodeIp: intToIp(podBase + 1),
        hostIp: lanIp,
      },
      nextPod: 10,
    };
    this.hosts.set(name, host);
    return host;
  }

  /**
   * A single-member etcd on loopback ports of the root namespace, data in the bed's folder; one of the
   * bed's processes, so it dies with them (test-util's startEtcd would outlive a crashed test).
   */
  async startEtcd(): Promise<string> {
    const [client, peer] = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const p = this.start('etcd', [
      'etcd',
      ...['--name', 'multi-host', '--data-dir', join(this.tmp, 'etcd'), '--log-level', 'warn'],
      ...['--listen-client-urls', client, '--advertise-client-urls', client],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', `multi-host=${peer}`],
    ]);
    let healthy = false;
    const probe = (): void =>
      void fetch(`${client}/health`)
        .then((r) => r.json() as Promise<{ health?: string }>)
        .then((h) => (healthy = h.health === 'true'))
        .catch(() => {});
    await this.until(
      'etcd to be healthy',
      p,
      () => {
        if (!healthy) probe();
        return healthy;
      },
      30_000,
    );
    return client;
  }

  /** Starts `mizzen server ARGS` in the root namespace on the LAN address; resolves once it listens. */
  async startControlPlane(args: readonly string[]): Promise<Proc> {
    const argv = [
      process.execPath,
      BIN,
      'server',
      ...args,
      '--xds-address',
      `${this.cpIp}:${CP_PORTS.xds}`,
      '--debug-address',
      `${this.cpIp}:${CP_PORTS.debug}`,
      '--dns-address',
      `${this.cpIp}:${CP_PORTS.dns}`,
    ];
    const p = this.start('mizzen-server', argv);
    await this.until('the control plane to listen', p, () => /debug listening on/.test(p.output()), 60_000);
    return p;
  }

  /** The control plane's debug/config API. */
  get debugUrl(): string {
    return `${this.cpIp}:${CP_PORTS.debug}`;
  }

  /** A pod on `host`: namespace with capture rules, its sidecar (ready), then its app (listening). */
  async startPod(hostName: string, name: string, spec: PodSpec): Promise<Pod> {
    const host = this.hosts.get(hostName)!;
    const ip = intToIp(ipToInt(host.pods.subnet.split('/')[0]) + host.nextPod++);
    const ns = createPodNs(host.pods, {
      name,
      namespace: 'default',
      podIp: ip,
      rules: captureRules(capturePlan({}).plan),
    });
    // Service names are answered by the control plane's DNS (pod mode points pods at the node).
    writeFileSync(join('/etc/netns', ns, 'resolv.conf'), resolvConf(this.cpIp, 'default'));
    const nodeId = `sidecar~${ip}~${name}.default~default.svc.cluster.local`;
    const metadata = {
      NAME: name,
      NAMESPACE: 'default',
      LABELS: spec.labels,
      WORKLOAD_NAME: name,
      SERVICE_ACCOUNT: 'default',
      INSTANCE_IPS: ip,
      INTERCEPTION_MODE: 'REDIRECT',
      ...(spec.group ? { AUTO_REGISTER_GROUP: spec.group } : {}),
    };
    const bootstrap = this.writeBootstrap(name, spec.nodeLocality);
    const ready = join(this.tmp, `${name}.ready`);
    rmSync(ready, { force: true });
    const sidecar = this.start(
      `${name} sidecar`,
      inNetns(
        ns,
        asProxy([
          process.execPath,
          BIN,
          'proxy',
          'sidecar',
          '--bootstrap',
          bootstrap,
          '--id',
          nodeId,
          '--metadata',
          JSON.stringify(metadata),
          '--admin-address',
          ip,
          '--admin-port',
          '15000',
          '--ready-file',
          ready,
        ]),
      ),
    );
    await this.until(`${name}'s sidecar to be ready`, sidecar, () => existsSync(ready), 60_000);
    let app: Proc | null = null;
    if (spec.app) {
      const a = this.start(name, inNetns(ns, [...spec.app]));
      await this.until(
        `${name}'s app to listen`,
        a,
        () => /listening|on 0\.0\.0\.0/.test(a.output()),
        30_000,
      );
      app = a;
    }
    return { name, host, ns, ip, nodeId, sidecar, app };
  }

  /** A sidecar's bootstrap: ADS from the control plane's LAN address with {@link XDS_KEEPALIVE}, its locality. */
  private writeBootstrap(pod: string, locality: PodSpec['nodeLocality']): string {
    const file = join(this.tmp, `${pod}.bootstrap.json`);
    const endpoint = { address: { socket_address: { address: this.cpIp, port_value: CP_PORTS.xds } } };
    const bootstrap = {
      ...(locality ? { node: { locality } } : {}),
      dynamic_resources: {
        ads_config: { api_type: 'DELTA_GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }] },
        cds_config: { ads: {} },
        lds_config: { ads: {} },
      },
      static_resources: {
        clusters: [
          {
            name: 'xds-grpc',
            type: 'STATIC',
            load_assignment: { cluster_name: 'xds-grpc', endpoints: [{ lb_endpoints: [{ endpoint }] }] },
            typed_extension_protocol_options: {
              'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                explicit_http_config: { http2_protocol_options: { connection_keepalive: XDS_KEEPALIVE } },
              },
            },
          },
        ],
      },
    };
    writeFileSync(file, JSON.stringify(bootstrap, null, 2));
    return file;
  }

  /** Runs `argv` in a host's own namespace (outside its pods: no capture). */
  hostExec(hostName: string, argv: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    return this.run(inNetns(this.hosts.get(hostName)!.ns, argv), timeoutMs);
  }

  /** Runs `argv` inside a pod's namespace (through its capture, with its DNS); never rejects. */
  exec(pod: Pod, argv: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    return this.run(inNetns(pod.ns, argv), timeoutMs);
  }

  private run(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return new Promise((resolve) => {
      child.once('error', (e) => {
        clearTimeout(timer);
        resolve({ code: -1, out, err: e.message });
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, out, err });
      });
    });
  }

  /** Cuts a host off the LAN: the router's end of its cable goes down. */
  partition(hostName: string): void {
    sh(['ip', '-n', this.routerNs, 'link', 'set', this.hosts.get(hostName)!.link, 'down']);
  }

  /** Plugs the cable back in. */
  heal(hostName: string): void {
    sh(['ip', '-n', this.routerNs, 'link', 'set', this.hosts.get(hostName)!.link, 'up']);
  }

  /** Kills every process the bed started, then removes every namespace, veth, route and /etc/netns entry. */
  async destroy(): Promise<void> {
    process.removeListener('exit', this.onExit);
    await Promise.all(this.procs.map((p) => p.kill()));
    removeNetwork(this.net.prefix, this.net.hostLink);
  }

  /** Processes that exited on their own, with their last output (for failure messages). */
  deaths(): string {
    return this.procs
      .filter((p) => !p.running && p.child.signalCode !== 'SIGKILL')
      .map((p) => `--- ${p.name} exited (${p.child.exitCode}):\n${p.output().slice(-2000)}`)
      .join('\n');
  }

  private start(name: string, argv: readonly string[]): Proc {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const p = new Proc(name, child);
    this.procs.push(p);
    return p;
  }

  /** Polls `ok` until it holds; fails naming `what` and the process's output when it exits or time runs out. */
  private async until(what: string, p: Proc, ok: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (!p.running) throw new Error(`${p.name} exited before ${what}:\n${p.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
