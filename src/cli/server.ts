// `mizzen server`: the control plane (Mizzen's istiod) over a watched config directory, etcd or the Kubernetes API.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineCommand, UsageError } from './command.js';
import { FileStore } from '../config/file-store.js';
import { DiscoveryServer } from '../pilot/discovery.js';
import type { LogLevel } from '../xds/logger.js';
import { hostname } from 'node:os';
import type { EtcdStore } from '../config/etcd/etcd-store.js';
import type { KubernetesStore } from '../config/kubernetes/kube-store.js';
import { configApiRoutes } from '../pilot/config-api.js';
import { parseDuration } from '../api/duration.js';
import { DEFAULT_SEND_TIMEOUT_MS } from '../xds/ads-server.js';
import { describeKeepalive, ISTIOD_KEEPALIVE, type ServerKeepalive } from '../xds/server-keepalive.js';
import type { WebhookServer } from './server-webhooks.js';
import { DnsServer } from '../pilot/dns/dns-server.js';
import { autoRegistrationRefused } from '../pilot/auto-registration.js';
import { DnsForwarder, hostUpstreams, parseUpstreams, type DnsUpstream } from '../pilot/dns/dns-forwarder.js';
import { buildNameTable, type NameTable } from '../pilot/dns/name-table.js';

const HELP = `usage: mizzen server --config DIR | --etcd URL[,URL…] | --kubernetes [--kubeconfig FILE]
                     [--xds-address 127.0.0.1:15010] [--debug-address 127.0.0.1:15014]

Serves Istio config as Envoy v3 resources over ADS, from a watched directory, etcd or the Kubernetes API.
  --config DIR          directory (or file) of Istio and Kubernetes resources
  --kubernetes          watch the Kubernetes API: Istio resources, Services, EndpointSlices, Pods,
                        Namespaces, ServiceAccounts, Secrets, ConfigMap istio-system/istio; validation
                        results go to Istio resources' status. In a pod: its service account
  --kubeconfig FILE     the cluster and credentials of FILE's current context (implies --kubernetes)
  --etcd URL[,URL…]     etcd client URLs: config under --etcd-prefix, written with \`mizzen apply --server\`;
                        run several servers on one etcd for a replicated control plane
  --etcd-prefix P       key prefix of this mesh in etcd                 [/mizzen/]
  --workload-entry-grace-period D  how long an auto-registered WorkloadEntry outlives its proxy's
                        last ADS stream (Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD)  [10s]
  --keepalive-interval D  HTTP/2 PING to every proxy this often; 0: none (istiod's --keepaliveInterval) [30s]
  --keepalive-timeout D  a connection that answers no PING within this is closed (--keepaliveTimeout) [10s]
  --keepalive-max-server-connection-age D  a connection this old (±10%) gets a GOAWAY and its streams
                        are closed 10s later, so proxies reconnect and spread over the replicas; 0: never
                        (istiod's --keepaliveMaxServerConnectionAge, as Istio installs it)  [30m]
  --xds-send-timeout D  a proxy that takes no byte of a pushed response for this long is disconnected
                        (it reconnects and gets its whole state); 0: never (istiod's
                        PILOT_XDS_SEND_TIMEOUT, off by default there)   [30s]
  --name NAME           this replica's name (istio.io/workloadController of the WorkloadEntries it
                        auto-registers)                                 [HOST-PID]
  --xds-address H:P     xDS gRPC address (port 0 picks a free port)     [127.0.0.1:15010]
  --debug-address H:P   debug HTTP: /debug/configz /debug/syncz /debug/config_dump /metrics [127.0.0.1:15014]
  --webhook-address H:P admission webhooks over HTTPS: /inject (sidecar injection) and /validate
                        (Istio config), AdmissionReview v1; needs --webhook-cert and --webhook-key
  --webhook-cert FILE   PEM certificate the API server verifies (SAN: the webhook Service's DNS name)
  --webhook-key FILE    its PEM key
  --inject-image IMAGE  image of injected sidecars                      [mizzen/mizzen:VERSION]
  --inject-discovery-address H:P  xDS address injected sidecars use     [istiod.istio-system.svc:15010]
  --dns-address H:P     also answer DNS (UDP) for service names with their virtual IPs (Istio's DNS
                        proxying; \`mizzen up\` points pod mode's pods at it): other names under
                        cluster.local get NXDOMAIN, the rest are forwarded to --dns-upstream
  --dns-upstream H[:P],...  resolvers for names outside the mesh, tried in order; none: NXDOMAIN
                        instead                 [the nameservers of /etc/resolv.conf, as the kubelet's]
  --ca-dir DIR          the CA: Istio cacerts files (ca-cert.pem, ca-key.pem, root-cert.pem,
                        cert-chain.pem) to plug in, else a self-signed root made there on first
                        start and kept; also the key of local pod tokens. Without it the root
                        lives in memory and no proxy can get a certificate. With --etcd the
                        root (and the token key) is kept in etcd and shared by every replica
  --verbose             log proxy connections and pushes`;

/** `--keepalive-interval`, `--keepalive-timeout`, `--keepalive-max-server-connection-age`: istiod's defaults under those given. */
function keepaliveFlags(values: {
  'keepalive-interval'?: string;
  'keepalive-timeout'?: string;
  'keepalive-max-server-connection-age'?: string;
}): ServerKeepalive {
  const ms = (flag: string, v: string | undefined, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    const d = parseDuration(v);
    if (d === undefined || d < min)
      throw new UsageError(
        `--${flag} must be a duration like 30s${min === 0 ? ' (0 turns it off)' : ''}, got ${JSON.stringify(v)}`,
      );
    return d;
  };
  const k = ISTIOD_KEEPALIVE;
  return {
    intervalMs: ms('keepalive-interval', values['keepalive-interval'], k.intervalMs, 0),
    timeoutMs: ms('keepalive-timeout', values['keepalive-timeout'], k.timeoutMs, 1),
    maxConnectionAgeMs: ms(
      'keepalive-max-server-connection-age',
      values['keepalive-max-server-connection-age'],
      k.maxConnectionAgeMs,
      0,
    ),
    maxConnectionAgeGraceMs: k.maxConnectionAgeGraceMs,
  };
}

function checkAddress(flag: string, v: string): string {
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} must be host:port, got ${JSON.stringify(v)}`);
  return v;
}

/** --dns-upstream's resolvers (or the host's), never the DNS server's own address (that would loop). */
function dnsUpstreams(flag: string | undefined, listen: { host: string; port: number }): DnsUpstream[] {
  if (flag === 'none') return [];
  const read = (path: string): string | null => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  };
  const list = flag === undefined ? hostUpstreams(read) : parseUpstreams(flag);
  if (typeof list === 'string') throw new UsageError(`--dns-upstream: ${list}`);
  return list.filter((u) => !(u.host === listen.host && u.port === listen.port));
}

/** The DNS server over the served push context's names (rebuilt once per push context). */
async function startDns(server: DiscoveryServer, address: string, upstreamFlag?: string): Promise<DnsServer> {
  const host = address.slice(0, address.lastIndexOf(':'));
  const wanted = Number(address.slice(address.lastIndexOf(':') + 1));
  const upstreams = dnsUpstreams(upstreamFlag, { host, port: wanted });
  const tables = new WeakMap<object, NameTable>();
  const dns = new DnsServer(
    () => {
      const push = server.pushContext();
      let t = tables.get(push);
      if (!t) tables.set(push, (t = buildNameTable(push.registry)));
      return t;
    },
    upstreams.length > 0 ? new DnsForwarder(upstreams) : null,
  );
  const port = await dns.listen(host, wanted);
  const to = upstreams.map((u) => (u.host.includes(':') ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`));
  console.log(
    `dns listening on ${host}:${port}; other names ${to.length > 0 ? `forwarded to ${to.join(', ')}` : 'get NXDOMAIN (no upstream)'}`,
  );
  return dns;
}

export default defineCommand({
  name: 'server',
  summary: 'run the control plane: serve Istio config as Envoy resources over ADS',
  help: HELP,
  flags: {
    config: { type: 'string' },
    etcd: { type: 'string' },
    'etcd-prefix': { type: 'string' },
    name: { type: 'string' },
    'workload-entry-grace-period': { type: 'string' },
    'keepalive-interval': { type: 'string' },
    'keepalive-timeout': { type: 'string' },
    'keepalive-max-server-connection-age': { type: 'string' },
    'xds-send-timeout': { type: 'string' },
    'xds-address': { type: 'string' },
    'debug-address': { type: 'string' },
    'dns-address': { type: 'string' },
    'dns-upstream': { type: 'string' },
    'ca-dir': { type: 'string' },
    verbose: { type: 'boolean' },
    kubernetes: { type: 'boolean' },
    kubeconfig: { type: 'string' },
    'webhook-address': { type: 'string' },
    'webhook-cert': { type: 'string' },
    'webhook-key': { type: 'string' },
    'inject-image': { type: 'string' },
    'inject-discovery-address': { type: 'string' },
  },
  async run({ flags: values }) {
    const kubernetes = values.kubernetes === true || values.kubeconfig !== undefined;
    if ([values.config !== undefined, values.etcd !== undefined, kubernetes].filter(Boolean).length !== 1)
      throw new UsageError('give one of --config DIR, --etcd URL[,URL…] or --kubernetes [--kubeconfig FILE]');
    const verbose = values.verbose ?? false;
    const log = (level: LogLevel, message: string): void => {
      if (verbose || level === 'warn' || level === 'error') process.stderr.write(`${level}: ${message}\n`);
    };
    const grace = values['workload-entry-grace-period'] ?? '10s';
    const graceMs = parseDuration(grace);
    if (graceMs === undefined)
      throw new UsageError(
        `--workload-entry-grace-period must be a duration like 10s or 500ms, got ${JSON.stringify(grace)}`,
      );
    const xdsKeepalive = keepaliveFlags(values);
    const sendTimeout = values['xds-send-timeout'];
    const xdsSendTimeoutMs = sendTimeout === undefined ? undefined : parseDuration(sendTimeout);
    if (sendTimeout !== undefined && xdsSendTimeoutMs === undefined)
      throw new UsageError(
        `--xds-send-timeout must be a duration like 30s (0 turns it off), got ${JSON.stringify(sendTimeout)}`,
      );
    // A bad --dns-upstream stops here, before anything listens.
    if (values['dns-address']) dnsUpstreams(values['dns-upstream'], { host: '', port: 0 });
    else if (values['dns-upstream']) throw new UsageError('--dns-upstream needs --dns-address');
    // etcd3, client-node and the webhook modules load only when asked for: `--config` servers start as fast as before.
    const backend = kubernetes
      ? (await import('./server-kubernetes.js')).kubernetesBackend(values.kubeconfig, log)
      : values.etcd
        ? (await import('./server-etcd.js')).etcdBackend(
            values.etcd,
            values['etcd-prefix'] ?? '/mizzen/',
            values.name ?? `${hostname()}-${process.pid}`,
            graceMs,
            log,
          )
        : {
            store: new FileStore(resolve(values.config!)),
            lifecycle: autoRegistrationRefused('--config serves a folder and writes nothing to it', log),
            rootStore: null,
            close: () => {},
          };
    const server = new DiscoveryServer({
      store: backend.store,
      xdsAddress: checkAddress('--xds-address', values['xds-address'] ?? '127.0.0.1:15010'),
      debugAddress: checkAddress('--debug-address', values['debug-address'] ?? '127.0.0.1:15014'),
      xdsKeepalive,
      xdsSendTimeoutMs,
      log,
      proxyLifecycle: backend.lifecycle,
      httpRoutes: configApiRoutes(backend.store, (line) => log('warn', line)),
      ca: {
        dir: values['ca-dir'] ? resolve(values['ca-dir']) : null,
        // Replicas on one etcd or cluster sign under one root kept there (unless --ca-dir plugs cacerts files).
        rootStore: backend.rootStore,
        // With --kubernetes, sidecars prove who they are with their service-account token (TokenReview).
        kubernetesTokens: 'kubernetesTokens' in backend ? backend.kubernetesTokens : null,
      },
    });
    let addrs;
    try {
      addrs = await server.start();
    } catch (err) {
      backend.close();
      await server.close().catch(() => {});
      console.error(`mizzen server: ${(err as Error).message}`);
      return 1;
    }
    const snap = backend.store.snapshot();
    const source = values.config ?? (backend.store as EtcdStore | KubernetesStore).description;
    console.log(`config: ${snap.resources.length} resources from ${source} (version ${snap.version})`);
    const ca = server.ca?.authority;
    if (ca) {
      const where =
        backend.rootStore && (ca.source === 'shared' || ca.source === 'generated')
          ? `shared by the replicas in ${values.etcd ? 'etcd' : backend.rootStore.description}`
          : values['ca-dir']
            ? `kept in ${values['ca-dir']}`
            : 'in memory only (no --ca-dir)';
      console.log(
        `ca: ${ca.source} signing certificate, ${where}; serving CreateCertificate on the xds port`,
      );
    }
    console.log(`xds listening on ${addrs.xds}`);
    console.log(describeKeepalive(xdsKeepalive));
    const evictMs = xdsSendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
    console.log(
      evictMs > 0
        ? `xds send timeout: a proxy that takes no byte of a response for ${evictMs / 1000}s is disconnected`
        : 'xds send timeout: none (a proxy that stops reading keeps its stream)',
    );
    let webhooks: WebhookServer | null = null;
    if (values['webhook-address']) {
      try {
        const { startWebhooks } = await import('./server-webhooks.js');
        ({ server: webhooks } = await startWebhooks(values, log, () => {
          const cm = backend.store.snapshot().get('ConfigMap', 'istio-system', 'istio');
          return (cm?.data as Record<string, string> | undefined)?.mesh;
        }));
      } catch (err) {
        backend.close();
        await server.close();
        console.error(`mizzen server: ${(err as Error).message}`);
        return 1;
      }
      console.log(`webhook listening on ${webhooks.address}`);
    }
    if (addrs.debug) console.log(`debug listening on ${addrs.debug}`);
    const dnsAddress = values['dns-address'];
    const dns = dnsAddress
      ? await startDns(server, checkAddress('--dns-address', dnsAddress), values['dns-upstream'])
      : null;
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    dns?.close();
    backend.close();
    await webhooks?.close();
    await server.close();
    return 0;
  },
});
