// `mizzen proxy-status`: every connected proxy's per-type xDS sync state, like istioctl proxy-status.
import { defineCommand, UsageError } from './command.js';
import { httpGet } from '../local/readiness.js';
import { liveState } from '../local/run-state.js';
import { formatTable } from '../local/table.js';

const HELP = `usage: mizzen proxy-status [--run-dir PATH] [--server HOST:PORT] [-o json]

Lists the proxies connected to the control plane (its /debug/syncz) with, per xDS type (CDS LDS EDS RDS
ECDS): SYNCED (the proxy ACKed the last response sent), NOT SENT (nothing sent yet), or STALE with why:
(NACK) the proxy rejected the last response (the messages follow the table), (not acked) no answer yet
to the last response, (Never Acknowledged) the proxy has not ACKed any response of that type.
VERSION is the proxy's Istio version when it reports one (ISTIO_VERSION), else the control plane's.
--server names the control plane's debug address; otherwise the local mesh's (state.json) is used.`;

/** One type of one proxy as /debug/syncz reports it (Mizzen's ADS server). */
interface SynczType {
  /** Version of the last response sent ('' before the first). */
  sent?: string;
  /** Version the proxy last ACKed. */
  acked?: string;
  /** Nonce of the last response sent. */
  nonce?: string;
  lastNack?: { version?: string; nonce?: string; message?: string };
}

/** One proxy (one ADS stream) as /debug/syncz reports it. */
interface SynczEntry {
  id?: string;
  metadata?: Record<string, unknown>;
  types?: Record<string, SynczType>;
  /** The control plane's version (Mizzen's package version). */
  controlPlaneVersion?: string;
}

/** istioctl's type columns, in its order. */
const TYPE_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['CDS', 'type.googleapis.com/envoy.config.cluster.v3.Cluster'],
  ['LDS', 'type.googleapis.com/envoy.config.listener.v3.Listener'],
  ['EDS', 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'],
  ['RDS', 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration'],
  ['ECDS', 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig'],
];

/** VHDS: a proxy on it gets its route configs' virtual hosts apart; the RDS column covers both. */
const VHDS = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';

/** A type column's cell; RDS shows the VHDS state when the route configs are SYNCED but their hosts are not. */
function cell(p: SynczEntry, column: string, url: string): string {
  const state = typeSyncState(p.types?.[url]);
  const vhds = column === 'RDS' ? p.types?.[VHDS] : undefined;
  if (!vhds || state !== 'SYNCED') return state;
  const hosts = typeSyncState(vhds);
  return hosts === 'SYNCED' ? state : `${hosts} (VHDS)`;
}

/** Whether the proxy NACKed the last response sent (not an earlier one). */
function nackedLast(t: SynczType): boolean {
  const n = t.lastNack;
  if (!n) return false;
  return t.nonce && n.nonce ? n.nonce === t.nonce : n.version === t.sent;
}

/**
 * One type's state as istiod judges it: NOT SENT before the first response, SYNCED when the proxy
 * ACKed the last one sent, otherwise STALE, with why.
 */
export function typeSyncState(t: SynczType | undefined): string {
  if (!t?.sent) return 'NOT SENT';
  if (t.sent === t.acked) return 'SYNCED';
  if (nackedLast(t)) return 'STALE (NACK)';
  return t.acked ? 'STALE (not acked)' : 'STALE (Never Acknowledged)';
}

/** The pod.namespace part of a node id (`sidecar~ip~pod.ns~ns.svc.cluster.local`), else the whole id. */
function proxyName(id: string): string {
  const parts = id.split('~');
  return parts.length === 4 ? parts[2] : id;
}

/** The VERSION cell: the proxy's own Istio version if it reports one, else the control plane's. */
function versionOf(p: SynczEntry): string {
  const md = p.metadata ?? {};
  const own = md.ISTIO_VERSION ?? md.MIZZEN_VERSION;
  if (typeof own === 'string' && own) return own;
  return p.controlPlaneVersion || '-';
}

function entries(syncz: unknown): SynczEntry[] {
  return Array.isArray(syncz) ? (syncz as SynczEntry[]).filter((p) => p && typeof p === 'object') : [];
}

/** Rows of `proxy-status` from /debug/syncz, sorted by name. */
export function proxyStatusRows(syncz: unknown, istiod: string): string[][] {
  return entries(syncz)
    .map((p) => [
      proxyName(String(p.id ?? '')),
      String(p.metadata?.CLUSTER_ID ?? 'Kubernetes'),
      ...TYPE_COLUMNS.map(([column, url]) => cell(p, column, url)),
      istiod,
      versionOf(p),
    ])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** One line per NACK behind a `STALE (NACK)` cell: proxy, type, rejected version and the proxy's message. */
export function nackLines(syncz: unknown): string[] {
  const out: string[] = [];
  for (const p of entries(syncz)) {
    for (const [column, url] of [...TYPE_COLUMNS, ['VHDS', VHDS] as const]) {
      const t = p.types?.[url];
      if (!t?.sent || t.sent === t.acked || !nackedLast(t)) continue;
      const message = (t.lastNack?.message ?? '').replace(/\s+/g, ' ').trim();
      out.push(`${proxyName(String(p.id ?? ''))} ${column} version ${t.sent}: ${message || '(no message)'}`);
    }
  }
  return out.sort();
}

/** The `proxy-status` table, followed by the NACK messages (if any). */
export function formatProxyStatus(syncz: unknown, istiod: string): string {
  const table = formatTable(
    ['NAME', 'CLUSTER', ...TYPE_COLUMNS.map(([c]) => c), 'ISTIOD', 'VERSION'],
    proxyStatusRows(syncz, istiod),
  );
  const nacks = nackLines(syncz);
  return nacks.length === 0
    ? table
    : `${table}\n\nNACKs (the proxy keeps its previous version):\n${nacks.map((l) => '  ' + l).join('\n')}`;
}

export default defineCommand({
  name: 'proxy-status',
  summary: "show every proxy's xDS sync state per type (like istioctl proxy-status)",
  help: HELP,
  runDir: true,
  meshNetwork: true,
  flags: {
    server: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run({ flags: values, paths }) {
    if (values.output && values.output !== 'json') throw new UsageError('-o must be json');
    let server = values.server;
    if (!server) {
      const live = liveState(paths);
      if ('error' in live) {
        console.error(`mizzen proxy-status: ${live.error}`);
        return 1;
      }
      server = live.state.debugAddress;
    }
    const r = await httpGet(`http://${server}/debug/syncz`, 5000);
    if (r.status !== 200) {
      console.error(`mizzen proxy-status: the control plane at ${server} does not answer (${r.status})`);
      return 1;
    }
    let syncz: unknown;
    try {
      syncz = JSON.parse(r.body);
    } catch {
      console.error(`mizzen proxy-status: ${server}/debug/syncz did not return JSON`);
      return 1;
    }
    console.log(values.output === 'json' ? JSON.stringify(syncz, null, 2) : formatProxyStatus(syncz, server));
    return 0;
  },
});
