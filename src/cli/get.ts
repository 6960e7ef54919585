// `mizzen get KIND [NAME] [-n NS|-A] [-o yaml|json|name]`: list the running mesh's config like kubectl.
import { stringify } from 'yaml';
import { defineCommand, UsageError } from './command.js';
import type { Resource } from '../api/resource.js';
import { listResources, type StoredResource } from '../local/config-dir.js';
import { isNamespaced, pluralOf, qualifiedKind, resolveKind } from '../local/kind-names.js';
import { readState } from '../local/run-state.js';
import { formatAge, formatTable } from '../local/table.js';
import { listRemote } from './remote-config.js';

const HELP = `usage: mizzen get KIND[,KIND…] [NAME…] [-n NS | -A] [-o yaml|json|name|wide] [--run-dir PATH | --server URL]

KIND is a kind, its plural or short name (vs, dr, gw, se, svc, po, deploy, …).
  --server URL   read what a control plane serves (its debug address, e.g. http://127.0.0.1:15014)`;

/** Extra columns kubectl shows for some kinds. */
function extraColumns(kind: string): { headers: string[]; cells: (r: Resource) => string[] } {
  const spec = (r: Resource): Record<string, any> => (r['spec'] ?? {}) as Record<string, any>;
  const list = (v: unknown): string => (Array.isArray(v) && v.length ? JSON.stringify(v) : '');
  switch (kind) {
    case 'VirtualService':
      return { headers: ['GATEWAYS', 'HOSTS'], cells: (r) => [list(spec(r).gateways), list(spec(r).hosts)] };
    case 'DestinationRule':
      return { headers: ['HOST'], cells: (r) => [String(spec(r).host ?? '')] };
    case 'ServiceEntry':
      return {
        headers: ['HOSTS', 'LOCATION', 'RESOLUTION'],
        cells: (r) => [list(spec(r).hosts), String(spec(r).location ?? ''), String(spec(r).resolution ?? '')],
      };
    case 'Service':
      return {
        headers: ['TYPE', 'PORT(S)'],
        cells: (r) => [
          String(spec(r).type ?? 'ClusterIP'),
          ((spec(r).ports ?? []) as { port: number; protocol?: string }[])
            .map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)
            .join(','),
        ],
      };
    case 'Deployment':
      return { headers: ['REPLICAS'], cells: (r) => [String(spec(r).replicas ?? 1)] };
    case 'Pod':
      return {
        headers: ['STATUS', 'IP'],
        cells: (r) => {
          const st = (r['status'] ?? {}) as Record<string, any>;
          return [String(st.phase ?? ''), String(st.podIP ?? '')];
        },
      };
    default:
      return { headers: [], cells: () => [] };
  }
}

function ageOf(s: StoredResource, now: number): string {
  const ts = s.resource.metadata.creationTimestamp;
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return formatAge(now - (Number.isFinite(t) ? t : s.createdAt));
}

export default defineCommand({
  name: 'get',
  summary: 'list resources of the running local mesh (like kubectl get)',
  help: HELP,
  runDir: true,
  flags: {
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    output: { type: 'string', short: 'o' },
    server: { type: 'string' },
  },
  args: { min: 1, max: Infinity, expected: 'KIND' },
  async run({ flags: values, args: positionals, paths }) {
    const out = values.output ?? '';
    if (!['', 'yaml', 'json', 'name', 'wide'].includes(out))
      throw new UsageError(`-o must be yaml, json, name or wide`);
    const kinds: string[] = [];
    for (const k of positionals[0].split(',')) {
      const kind = resolveKind(k);
      if (!kind) {
        console.error(`error: the server doesn't have a resource type "${k}"`);
        return 1;
      }
      kinds.push(kind);
    }
    const names = positionals.slice(1);
    const all = !!values['all-namespaces'];
    const ns = values.namespace ?? 'default';
    let source: StoredResource[];
    if (values.server) {
      try {
        source = (await listRemote(values.server, kinds, null)).map((resource) => ({
          resource,
          file: '',
          createdAt: Date.now(),
        }));
      } catch (err) {
        console.error(`mizzen get: ${(err as Error).message}`);
        return 1;
      }
    } else {
      if (!readState(paths)) {
        console.error(
          `mizzen get: no mesh in ${paths.root} (start one with \`mizzen up DIR\`, or read a control plane with --server URL)`,
        );
        return 1;
      }
      source = listResources(paths).resources;
    }
    const stored = source.filter(
      (s) =>
        kinds.includes(s.resource.kind) &&
        (all || !isNamespaced(s.resource.kind) || (s.resource.metadata.namespace ?? 'default') === ns) &&
        (names.length === 0 || names.includes(s.resource.metadata.name)),
    );
    let code = 0;
    for (const n of names) {
      if (!stored.some((s) => s.resource.metadata.name === n)) {
        console.error(`Error from server (NotFound): ${pluralOf(kinds[0])} "${n}" not found`);
        code = 1;
      }
    }
    const items = stored.map((s) => s.resource);
    if (out === 'yaml' || out === 'json') {
      const doc =
        items.length === 1 && names.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items };
      if (items.length)
        process.stdout.write(out === 'json' ? JSON.stringify(doc, null, 2) + '\n' : stringify(doc));
      return code;
    }
    if (out === 'name') {
      for (const r of items) console.log(`${qualifiedKind(r.kind, r.apiVersion)}/${r.metadata.name}`);
      return code;
    }
    if (stored.length === 0) {
      if (names.length === 0)
        console.error(all ? 'No resources found' : `No resources found in ${ns} namespace.`);
      return code;
    }
    const now = Date.now();
    const blocks: string[] = [];
    for (const kind of kinds) {
      const ofKind = stored.filter((s) => s.resource.kind === kind);
      if (ofKind.length === 0) continue;
      const extra = extraColumns(kind);
      const headers = [...(all ? ['NAMESPACE'] : []), 'NAME', ...extra.headers, 'AGE'];
      const rows = ofKind.map((s) => {
        const r = s.resource;
        const name =
          kinds.length > 1 ? `${qualifiedKind(r.kind, r.apiVersion)}/${r.metadata.name}` : r.metadata.name;
        return [...(all ? [r.metadata.namespace ?? ''] : []), name, ...extra.cells(r), ageOf(s, now)];
      });
      blocks.push(formatTable(headers, rows));
    }
    console.log(blocks.join('\n\n'));
    return code;
  },
});
