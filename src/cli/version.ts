// `mizzen version`: the version of this Mizzen (package.json), as `istioctl version --remote=false` prints its own.
import { defineCommand, UsageError } from './command.js';
import { mizzenVersion } from '../pilot/version.js';

export default defineCommand({
  name: 'version',
  summary: 'print the version of Mizzen',
  help: `usage: mizzen version [-o json]   (also: mizzen --version)

Prints Mizzen's version (the version of its package), e.g. "mizzen version 0.1.0".`,
  flags: { output: { type: 'string', short: 'o' } },
  async run({ flags }) {
    const version = mizzenVersion();
    if (flags.output === 'json') console.log(JSON.stringify({ version, node: process.version }, null, 2));
    else if (flags.output === undefined) console.log(`mizzen version ${version}`);
    else throw new UsageError(`-o must be json, got "${flags.output}"`);
    return 0;
  },
});
