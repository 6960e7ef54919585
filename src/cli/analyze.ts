// `mizzen analyze -f PATH...`: loads config and runs the cross-resource analyzers, as `istioctl analyze` does.
import { defineCommand } from './command.js';
import { CONFIG_FLAGS, configArgs } from './validate.js';
import { hasErrors } from '../api/diagnostic.js';
import { analyzePaths } from '../analyze/analyze-paths.js';
import { countLine, findingJson, formatFinding } from '../analyze/format.js';

const USAGE = `usage: mizzen analyze -f FILE|DIR|- [-f ...] [-o text|json]

Loads the config (as \`mizzen validate\` does) and checks the resources against each other: missing
hosts, subsets and gateways, conflicting VirtualServices and Gateways, selectors that match no
workload, contradicting mTLS settings, unreachable routes, port naming. Findings use istioctl's codes
(IST0101, ...; MZ-... where Istio has none) and print as
  file:line:col: Level [CODE] (Kind namespace/name) field.path: message
Exit status: 1 when any finding is an Error, else 0; 2 for bad usage.`;

export default defineCommand({
  name: 'analyze',
  summary: 'check config for cross-resource problems (like istioctl analyze)',
  help: USAGE,
  flags: CONFIG_FLAGS,
  args: { min: 0, max: Infinity, expected: 'paths' },
  async run({ flags, args: positionals }) {
    const args = configArgs(flags, positionals);
    const { resources, diagnostics } = analyzePaths(args.paths);
    if (args.output === 'json') {
      console.log(JSON.stringify(diagnostics.map(findingJson), null, 2));
    } else if (diagnostics.length === 0) {
      console.log(`✔ No validation issues found when analyzing ${resources.length} resources.`);
    } else {
      for (const d of diagnostics) console.log(formatFinding(d));
      console.log(`${countLine(diagnostics)} (analyzed ${resources.length} resources)`);
    }
    return hasErrors(diagnostics) ? 1 : 0;
  },
});
