// `mizzen validate -f PATH...`: loads config and reports every schema problem with file:line:col and field path.
import { defineCommand, UsageError, type FlagValues } from './command.js';
import { loadPaths } from '../api/load.js';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../api/diagnostic.js';
import { resourceKey } from '../api/resource.js';

/** Paths and output format shared by the config-reading commands. */
export interface ConfigArgs {
  readonly paths: string[];
  readonly output: 'text' | 'json';
}

/** `-f PATH` (repeatable; `-` = stdin; positional paths too) and `-o text|json`. */
export const CONFIG_FLAGS = {
  filename: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o' },
} as const;

/** The paths and output format of parsed CONFIG_FLAGS plus positional paths. */
export function configArgs(flags: FlagValues<typeof CONFIG_FLAGS>, positionals: string[]): ConfigArgs {
  const output = flags.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`-o must be text or json, got "${output}"`);
  const paths = [...(flags.filename ?? []), ...positionals];
  if (paths.length === 0)
    throw new UsageError('no config given: pass -f FILE|DIR|- (repeatable) or paths as arguments');
  return { paths, output };
}

/** How many documents were rejected: errors grouped by resource, else by file (syntax) or position. */
export function countRejected(ds: readonly Diagnostic[]): number {
  const keys = new Set<string>();
  for (const d of ds) {
    if (d.severity !== 'error' || d.code === 'MZ-FILE') continue;
    if (d.resource) keys.add(`${d.file}|${d.resource}`);
    else if (d.code === 'MZ-YAML-SYNTAX') keys.add(`${d.file}|syntax`);
    else keys.add(`${d.file}|${d.line}`);
  }
  return keys.size;
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

const USAGE = `usage: mizzen validate -f FILE|DIR|- [-f ...] [-o text|json]

Loads every .yaml/.yml/.json file (directories recursively, "-" for stdin) and checks each resource
against its schema. Prints each problem as file:line:col: path: message. Exit status: 0 when there are
no errors (warnings allowed), 1 when any resource is rejected, 2 for bad usage.`;

export default defineCommand({
  name: 'validate',
  summary: 'check config files against the Istio and Kubernetes schemas',
  help: USAGE,
  flags: CONFIG_FLAGS,
  args: { min: 0, max: Infinity, expected: 'paths' },
  async run({ flags, args: positionals }) {
    const args = configArgs(flags, positionals);
    const { resources, diagnostics } = loadPaths(args.paths);
    const sorted = sortDiagnostics(diagnostics);
    const errors = sorted.filter((d) => d.severity === 'error').length;
    const warnings = sorted.length - errors;
    const rejected = countRejected(sorted);
    if (args.output === 'json') {
      const out = {
        valid: !hasErrors(sorted),
        diagnostics: sorted,
        resources: resources.map(resourceKey),
        summary: { valid: resources.length, rejected, errors, warnings },
      };
      console.log(JSON.stringify(out, null, 2));
    } else {
      for (const d of sorted) console.log(formatDiagnostic(d));
      console.log(
        `${plural(resources.length, 'resource')} valid, ${rejected} rejected, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
      );
    }
    return hasErrors(sorted) ? 1 : 0;
  },
});
