// A workload's pods and, per pod's sidecar, what `mizzen proxy-config` and `mizzen logs POD -c istio-proxy`
// show: listeners, routes, clusters, certificates (from the sidecar's admin /config_dump) and the last
// access-log lines of its log file.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import {
  clusterRows,
  formatSecretChains,
  listenerRows,
  routeRows,
  secretRows,
} from '../cli/proxy-config/format.js';
import { httpGet } from '../local/readiness.js';
import { logFileOf } from '../local/mesh.js';
import type { RunPaths, RunState } from '../local/run-state.js';

/** Column headers of the tables, as `mizzen proxy-config` prints them. */
export const HEADERS = {
  listeners: ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'],
  routes: ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'],
  clusters: ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'],
  secrets: ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'],
} as const;

/** One proxy of a workload: where its admin and log are. */
export interface ProxyRef {
  readonly pod: string;
  readonly namespace: string;
  /** `host:port` of the proxy's admin. */
  readonly admin: string;
  readonly logFile: string;
}

/** The proxies of `workload` (a Deployment/Pod name, or the ingress gateway's name) in `namespace`. */
export function proxiesOf(paths: RunPaths, s: RunState, workload: string, namespace?: string): ProxyRef[] {
  const log = (p: string): string => s.processes[p]?.logFile ?? logFileOf(paths, p);
  const gwPod = s.gateway.nodeId.split('~')[2]?.split('.')[0] ?? 'istio-ingressgateway';
  if (workload === gwPod || workload === 'istio-ingressgateway')
    return [
      {
        pod: gwPod,
        namespace: s.gateway.nodeId.split('~')[2]?.split('.')[1] ?? 'istio-system',
        admin: `127.0.0.1:${s.gateway.adminPort}`,
        logFile: log(s.gateway.process),
      },
    ];
  return s.pods
    .filter((p) => p.workload === workload && (!namespace || p.namespace === namespace))
    .map((p) => ({
      pod: p.name,
      namespace: p.namespace,
      admin: `${p.sidecar.adminIp ?? '127.0.0.1'}:${p.sidecar.adminPort}`,
      logFile: log(p.sidecar.process),
    }));
}

/** The tables of one sidecar's config (rows as `mizzen proxy-config` prints them). */
export interface ProxyTables {
  readonly listeners: string[][];
  readonly routes: string[][];
  readonly clusters: string[][];
  readonly secrets: string[][];
  /** Each certificate of each chain (identity, serial, validity, issuer), as `proxy-config secret` prints. */
  readonly chains: string;
}

/** Reads a proxy's /config_dump and turns it into the `proxy-config` tables. */
export async function proxyTables(admin: string, now = Date.now()): Promise<ProxyTables> {
  const r = await httpGet(`http://${admin}/config_dump`, 5000);
  if (r.status !== 200) throw new Error(`GET http://${admin}/config_dump → ${r.status || 'unreachable'}`);
  const dump = JSON.parse(r.body) as unknown;
  return {
    listeners: listenerRows(dump),
    routes: routeRows(dump),
    clusters: clusterRows(dump),
    secrets: secretRows(dump, now),
    chains: formatSecretChains(dump, now),
  };
}

/** How much of the end of a log file is read for its access-log lines (bytes). */
const TAIL_BYTES = 256 * 1024;

/**
 * The last `n` access-log lines of a proxy's log file: lines in Istio's text format (`[START_TIME] ...`)
 * or JSON encoding (`{...}`); the proxy's own log lines (ISO time, tab, level) are left out.
 */
export function accessLogTail(file: string, n: number): string[] {
  if (n <= 0 || !existsSync(file)) return [];
  const size = statSync(file).size;
  const start = Math.max(0, size - TAIL_BYTES);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    let off = 0;
    while (off < buf.length) {
      const got = readSync(fd, buf, off, buf.length - off, start + off);
      if (got <= 0) break;
      off += got;
    }
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  if (start > 0) lines.shift(); // a partial first line
  const access = lines.filter((l) => /^\[\d/.test(l) || l.startsWith('{'));
  return access.slice(Math.max(0, access.length - n));
}
