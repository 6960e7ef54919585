// `mizzen apply -f FILE|DIR|-`: validate resources, then write them into the running mesh's config (live in about a second).
import { dirname, resolve } from 'node:path';
import { defineCommand, UsageError } from './command.js';
import { loadPaths } from '../api/load.js';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../api/diagnostic.js';
import { sourceOf } from '../api/resource.js';
import { applyResources, listResources } from '../local/config-dir.js';
import { qualifiedKind } from '../local/kind-names.js';
import { liveState } from '../local/run-state.js';
import { readSources } from '../api/files.js';
import { applyRemote } from './remote-config.js';
import { imageOnlyWarnings, referenceWarnings } from './apply-warnings.js';
import type { Resource } from '../api/resource.js';
import type { RunPaths } from '../local/run-state.js';

/** The resources the running mesh has now (for the analysis of what is applied). */
function runningResources(paths: RunPaths): Resource[] {
  try {
    return listResources(paths).resources.map((s) => s.resource);
  } catch {
    return [];
  }
}

const HELP = `usage: mizzen apply -f FILE|DIR|- [-f …] [-n NS] [--run-dir PATH | --server URL]

Validates every resource first (nothing is applied when any has an error), then writes each one to
the running mesh's config (RUNDIR/config/applied/<kind>-<ns>-<name>.yaml), replacing an earlier
definition of the same resource. Deployments and Pods start (or restart) their workloads.

  --server URL   apply to a control plane instead (\`mizzen server --etcd\`; URL is its debug
                 address, e.g. http://127.0.0.1:15014): it validates and stores every resource or none`;

export default defineCommand({
  name: 'apply',
  summary: 'add or change resources in the running local mesh',
  help: HELP,
  runDir: true,
  flags: {
    filename: { type: 'string', short: 'f', multiple: true },
    namespace: { type: 'string', short: 'n' },
    server: { type: 'string' },
  },
  async run({ flags: values, paths }) {
    if (!values.filename?.length) throw new UsageError(`expected -f FILE|DIR|-`);
    if (values.server) return applyToServer(values.server, values.filename, values.namespace);
    const live = liveState(paths);
    if ('error' in live) {
      console.error(`mizzen apply: ${live.error}`);
      return 1;
    }
    const r = loadPaths(values.filename, values.namespace ? { defaultNamespace: values.namespace } : {});
    for (const d of sortDiagnostics(r.diagnostics)) console.error(formatDiagnostic(d));
    if (hasErrors(r.diagnostics)) {
      console.error('mizzen apply: nothing was applied');
      return 1;
    }
    if (r.resources.length === 0) {
      console.error('mizzen apply: no resources found');
      return 1;
    }
    for (const w of imageOnlyWarnings(r.resources)) console.error(w);
    for (const w of referenceWarnings(r.resources, runningResources(paths))) console.error(w);
    const byKey = new Map(
      r.resources.map((x) => [`${x.kind}/${x.metadata.namespace ?? ''}/${x.metadata.name}`, x]),
    );
    const outcomes = applyResources(paths, r.resources, (x) => {
      const f = sourceOf(x)?.file;
      return f && f !== '-' ? dirname(resolve(f)) : process.cwd();
    });
    for (const o of outcomes) {
      const x = byKey.get(o.key)!;
      console.log(`${qualifiedKind(x.kind, x.apiVersion)}/${x.metadata.name} ${o.action}`);
    }
    return 0;
  },
});

/** `--server`: the control plane validates (diagnostics name the local files) and stores all or nothing. */
async function applyToServer(
  server: string,
  paths: string[],
  namespace: string | undefined,
): Promise<number> {
  const { sources, diagnostics } = readSources(paths);
  for (const d of diagnostics) console.error(formatDiagnostic(d));
  if (hasErrors(diagnostics)) {
    console.error('mizzen apply: nothing was applied');
    return 1;
  }
  let r;
  try {
    r = await applyRemote(server, sources, namespace);
  } catch (err) {
    console.error(`mizzen apply: ${(err as Error).message}`);
    return 1;
  }
  for (const d of r.diagnostics) console.error(d.text);
  if (!r.ok) {
    console.error(`mizzen apply: ${r.error ?? 'failed'}`);
    return 1;
  }
  for (const o of r.outcomes)
    console.log(`${qualifiedKind(o.kind, o.apiVersion ?? '')}/${o.name} ${o.action}`);
  return 0;
}
