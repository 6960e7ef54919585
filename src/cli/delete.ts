// `mizzen delete -f FILE|DIR|-` or `mizzen delete KIND NAME…`: remove resources from the running mesh's config.
import { defineCommand, UsageError } from './command.js';
import { loadPaths } from '../api/load.js';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../api/diagnostic.js';
import { deleteResources } from '../local/config-dir.js';
import { isNamespaced, pluralOf, qualifiedKindOf, resolveKind } from '../local/kind-names.js';
import { liveState } from '../local/run-state.js';
import { deleteRemote } from './remote-config.js';

const HELP = `usage: mizzen delete -f FILE|DIR|- [-n NS]      delete what these manifests define
       mizzen delete KIND NAME… [-n NS]           e.g. mizzen delete vs reviews

  --ignore-not-found   exit 0 when a resource does not exist
  --server URL         delete from a control plane (\`mizzen server --etcd\`) instead of the local mesh`;

export default defineCommand({
  name: 'delete',
  summary: 'remove resources from the running local mesh',
  help: HELP,
  runDir: true,
  flags: {
    filename: { type: 'string', short: 'f', multiple: true },
    namespace: { type: 'string', short: 'n' },
    'ignore-not-found': { type: 'boolean' },
    server: { type: 'string' },
  },
  args: { min: 0, max: Infinity, expected: 'KIND NAME…' },
  async run({ flags: values, args: positionals, paths }) {
    const ns = values.namespace ?? 'default';
    const targets: string[] = [];
    if (values.filename?.length) {
      if (positionals.length) throw new UsageError(`give either -f or KIND NAME, not both`);
      const r = loadPaths(values.filename, { defaultNamespace: ns });
      for (const d of sortDiagnostics(r.diagnostics)) console.error(formatDiagnostic(d));
      if (hasErrors(r.diagnostics)) {
        console.error('mizzen delete: nothing was deleted');
        return 1;
      }
      for (const x of r.resources) targets.push(`${x.kind}/${x.metadata.namespace ?? ''}/${x.metadata.name}`);
    } else {
      if (positionals.length < 2) throw new UsageError(`expected -f FILE or KIND NAME…`);
      const kind = resolveKind(positionals[0]);
      if (!kind) {
        console.error(`mizzen delete: unknown resource type "${positionals[0]}"`);
        return 1;
      }
      for (const name of positionals.slice(1))
        targets.push(`${kind}/${isNamespaced(kind) ? ns : ''}/${name}`);
    }
    if (values.server) return deleteFromServer(values.server, targets, !!values['ignore-not-found']);
    const live = liveState(paths);
    if ('error' in live) {
      console.error(`mizzen delete: ${live.error}`);
      return 1;
    }
    const r = deleteResources(paths, targets);
    for (const k of r.deleted) {
      const [kind, , name] = k.split('/');
      console.log(`${qualifiedKindOf(kind)} "${name}" deleted`);
    }
    for (const k of r.missing) {
      const [kind, kns, name] = k.split('/');
      const owned =
        kind === 'Pod' && live.state.pods.some((p) => p.name === name && p.workloadKind === 'Deployment');
      const why = owned ? ` (it belongs to a Deployment; delete or change the Deployment instead)` : '';
      console.error(
        `Error from server (NotFound): ${pluralOf(kind)} "${name}" not found${kns ? ` in namespace "${kns}"` : ''}${why}`,
      );
    }
    return r.missing.length && !values['ignore-not-found'] ? 1 : 0;
  },
});

async function deleteFromServer(server: string, targets: string[], ignoreNotFound: boolean): Promise<number> {
  let outcomes;
  try {
    outcomes = await deleteRemote(
      server,
      targets.map((t) => {
        const [kind, namespace, name] = t.split('/');
        return { kind, namespace, name };
      }),
    );
  } catch (err) {
    console.error(`mizzen delete: ${(err as Error).message}`);
    return 1;
  }
  let missing = 0;
  for (const o of outcomes) {
    if (o.action === 'deleted') console.log(`${qualifiedKindOf(o.kind)} "${o.name}" deleted`);
    else {
      missing++;
      console.error(
        `Error from server (NotFound): ${pluralOf(o.kind)} "${o.name}" not found${o.namespace ? ` in namespace "${o.namespace}"` : ''}`,
      );
    }
  }
  return missing && !ignoreNotFound ? 1 : 0;
}
