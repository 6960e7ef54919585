// `mizzen proxy-config`: a proxy's listeners, routes, clusters, endpoints or secrets as istioctl shows them.
import { defineCommand, UsageError } from './command.js';
import { httpGet } from '../local/readiness.js';
import { findPods, liveState, type RunPaths } from '../local/run-state.js';
import {
  clustersOf,
  dumpPart,
  formatClusters,
  formatEndpoints,
  formatListeners,
  formatRoutes,
  formatSecretChains,
  formatSecrets,
} from './proxy-config/format.js';

const HELP = `usage: mizzen proxy-config listeners|routes|clusters|endpoints|secret POD [-o short|json]
                           [--run-dir PATH] [--admin HOST:PORT]

Shows the config a proxy of the local mesh runs, read from its admin /config_dump (endpoints: /clusters).
POD is a pod name, a workload or app name (its first pod) or istio-ingressgateway; --admin names a
proxy's admin address directly (POD is then optional). -o json prints the relevant raw part of the dump.`;

const KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secret'] as const;
type Kind = (typeof KINDS)[number];
const ALIASES: Record<string, Kind> = {
  listener: 'listeners',
  listeners: 'listeners',
  l: 'listeners',
  route: 'routes',
  routes: 'routes',
  r: 'routes',
  cluster: 'clusters',
  clusters: 'clusters',
  c: 'clusters',
  endpoint: 'endpoints',
  endpoints: 'endpoints',
  ep: 'endpoints',
  secret: 'secret',
  secrets: 'secret',
  s: 'secret',
};

/** Admin address of POD in the run dir's mesh, or an error message. */
export function resolveAdmin(paths: RunPaths, pod: string): { admin: string } | { error: string } {
  const live = liveState(paths);
  if ('error' in live) return live;
  const s = live.state;
  const gwName = s.gateway.nodeId.split('~')[2]?.split('.')[0] ?? 'istio-ingressgateway';
  const bare = pod.replace(/\.[^.]+$/, '');
  if (pod === 'istio-ingressgateway' || pod === gwName || bare === gwName)
    return { admin: `127.0.0.1:${s.gateway.adminPort}` };
  const dot = pod.indexOf('.');
  const found = findPods(s, dot > 0 ? pod.slice(0, dot) : pod, dot > 0 ? pod.slice(dot + 1) : undefined);
  if (!found.length) return { error: `no pod named ${pod} in the mesh of ${s.manifests}` };
  return { admin: `${found[0].sidecar.adminIp ?? '127.0.0.1'}:${found[0].sidecar.adminPort}` };
}

/** GETs a JSON document from a proxy's admin; throws naming the URL when it fails. */
export async function getJson(url: string): Promise<unknown> {
  const r = await httpGet(url, 5000);
  if (r.status !== 200) throw new Error(`GET ${url} → ${r.status || 'unreachable'}`);
  return JSON.parse(r.body) as unknown;
}

/** The raw part of the dump `-o json` prints for a kind. */
function rawPart(kind: Kind, dump: unknown): unknown {
  switch (kind) {
    case 'clusters':
      return clustersOf(dump);
    case 'listeners':
      return dumpPart(dump, 'ListenersConfigDump');
    case 'routes':
      return dumpPart(dump, 'RoutesConfigDump');
    case 'secret':
      return dumpPart(dump, 'SecretsConfigDump');
    default:
      return dump;
  }
}

export default defineCommand({
  name: 'proxy-config',
  summary: "show a proxy's listeners, routes, clusters, endpoints or secrets (like istioctl proxy-config)",
  help: HELP,
  runDir: true,
  meshNetwork: true,
  flags: {
    admin: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  args: { min: 0, max: 2, expected: 'KIND POD' },
  async run({ flags: values, args: positionals, paths }) {
    const kind = ALIASES[positionals[0] ?? ''];
    if (!kind) throw new UsageError(`name one of ${KINDS.join(', ')}`);
    const pod = positionals[1];
    if (!pod && !values.admin) throw new UsageError(`name a pod (or --admin HOST:PORT)`);
    const output = values.output ?? 'short';
    if (output !== 'short' && output !== 'json') throw new UsageError('-o must be short or json');
    let admin = values.admin;
    if (!admin) {
      const r = resolveAdmin(paths, pod);
      if ('error' in r) {
        console.error(`mizzen proxy-config: ${r.error}`);
        return 1;
      }
      admin = r.admin;
    }
    try {
      if (kind === 'endpoints') {
        const clusters = await getJson(`http://${admin}/clusters?format=json`);
        console.log(output === 'json' ? JSON.stringify(clusters, null, 2) : formatEndpoints(clusters));
        return 0;
      }
      const dump = await getJson(`http://${admin}/config_dump`);
      if (output === 'json') {
        console.log(JSON.stringify(rawPart(kind, dump), null, 2));
        return 0;
      }
      const fmt = {
        clusters: formatClusters,
        listeners: formatListeners,
        routes: formatRoutes,
        secret: formatSecrets,
      }[kind];
      console.log(fmt(dump));
      if (kind === 'secret') {
        // The chains in detail: whose certificate (SPIFFE id), which serial, valid when, signed by whom.
        const chains = formatSecretChains(dump);
        if (chains) console.log(`\n${chains}`);
      }
      return 0;
    } catch (err) {
      console.error(`mizzen proxy-config: ${(err as Error).message}`);
      return 1;
    }
  },
});
