// `mizzen up DIR`: placeholder until the local supervisor lands (issue 7).
import type { Command } from './command.js';

const up: Command = {
  name: 'up',
  summary: 'run a whole mesh on this machine from a folder of manifests',
  async run(argv) {
    console.log(`mizzen up ${argv.join(' ')}: not yet — the local mesh runner is being built (issue 7).`);
    return 0;
  },
};
export default up;
