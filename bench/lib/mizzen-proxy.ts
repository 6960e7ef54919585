// Mizzen's proxy as a sidecar with a realistic static config: an Envoy bootstrap with a header-match route,
// a 2-way weighted split over two clusters with circuit breakers and outlier detection, stats and admin on.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mizzenBin } from './paths.js';
import { runProcess, startProcess, type Running } from './proc.js';

/** Where and how Mizzen's proxy runs. */
export interface MizzenProxyOptions {
  /** Its own folder (bootstrap, profile). */
  dir: string;
  /** Listener port on 127.0.0.1 (HTTP/1.1 and h2c, detected). */
  port: number;
  /** Admin port on 127.0.0.1. */
  adminPort: number;
  /** Backend port on 127.0.0.1 (both clusters point at it). */
  upstreamPort: number;
  /** Worker processes (`--concurrency`); only passed when > 1. */
  concurrency?: number;
  /** Write a V8 CPU profile into this folder (node --cpu-prof) when the proxy exits. */
  cpuProfDir?: string;
  /** Another build's `bin/mizzen.js` (a baseline commit); this checkout's by default. */
  bin?: string;
  /** Extra node flags (e.g. `--import` of a probe). */
  nodeArgs?: string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /** CPUs to run on (taskset -c), or all. */
  cpus?: string;
}

function cluster(name: string, port: number): string {
  return `  - name: ${name}
    type: STATIC
    connect_timeout: 1s
    lb_policy: LEAST_REQUEST
    circuit_breakers:
      thresholds:
      - max_connections: 4096
        max_pending_requests: 4096
        max_requests: 4096
        max_retries: 3
    outlier_detection:
      consecutive_5xx: 5
      interval: 10s
      base_ejection_time: 30s
      max_ejection_percent: 10
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: ${port} }
`;
}

/** The bootstrap YAML: requests with `x-canary: true` go to `backend_v2`; the rest split 80/20 over v1 and v2. */
export function mizzenBootstrap(o: MizzenProxyOptions): string {
  return `node:
  id: sidecar~127.0.0.1~bench-0.default~default.svc.cluster.local
  cluster: bench.default
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: ${o.adminPort} }
static_resources:
  listeners:
  - name: 127.0.0.1_${o.port}
    address:
      socket_address: { address: 127.0.0.1, port_value: ${o.port} }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: outbound_0.0.0.0_${o.port}
          codec_type: AUTO
          route_config:
            name: '${o.port}'
            virtual_hosts:
            - name: backend.default.svc.cluster.local:${o.port}
              domains: ['*']
              routes:
              - name: canary
                match:
                  prefix: /
                  headers:
                  - name: x-canary
                    string_match: { exact: 'true' }
                route: { cluster: backend_v2 }
              - name: split
                match: { prefix: / }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: backend_v1, weight: 80 }
                    - { name: backend_v2, weight: 20 }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
${cluster('backend_v1', o.upstreamPort)}${cluster('backend_v2', o.upstreamPort)}`;
}

/** The argv (after `node`) that starts the proxy for these options. */
export function mizzenProxyArgs(o: MizzenProxyOptions): string[] {
  const node = [
    ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []),
    ...(o.nodeArgs ?? []),
  ];
  const extra = o.concurrency && o.concurrency > 1 ? ['--concurrency', String(o.concurrency)] : [];
  return [
    ...node,
    o.bin ?? mizzenBin,
    'proxy',
    '--bootstrap',
    join(o.dir, 'bootstrap.yaml'),
    '--admin-port',
    String(o.adminPort),
    '--drain-time-s',
    '0',
    '--ready-file',
    join(o.dir, 'ready.json'),
    '--log-level',
    'warning',
    ...extra,
  ];
}

/** Writes the bootstrap and starts the proxy; resolves once its listener accepts connections. */
export async function startMizzenProxy(o: MizzenProxyOptions): Promise<Running> {
  writeFileSync(join(o.dir, 'bootstrap.yaml'), mizzenBootstrap(o));
  rmSync(join(o.dir, 'ready.json'), { force: true });
  return startProcess(process.execPath, mizzenProxyArgs(o), {
    waitForFile: join(o.dir, 'ready.json'),
    timeoutMs: 30000,
    env: o.env,
    cpus: o.cpus,
  });
}

/** `mizzen proxy --help`, and whether it offers a multi-core mode (`--concurrency`). */
export async function mizzenProxyHelp(): Promise<{ text: string; concurrency: boolean }> {
  const r = await runProcess(process.execPath, [mizzenBin, 'proxy', '--help']);
  const text = r.stdout + r.stderr;
  return { text, concurrency: /--concurrency\b/.test(text) };
}

/** Upstream request totals per cluster from the admin /stats (proves traffic took the split). */
export async function mizzenClusterRequests(adminPort: number): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/stats`);
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^cluster\.([^.\s]+)\.upstream_rq_total: (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}
