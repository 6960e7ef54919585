// `mizzen down`: stop the mesh of a run directory cleanly (SIGTERM, then SIGKILL after a grace period).
import { defineCommand, UsageError } from './command.js';
import { waitUntil } from '../local/readiness.js';
import { isSameProcess, readState, writeState } from '../local/run-state.js';
import { killGroup } from '../local/supervisor.js';
import { removeNetwork } from '../local/pod-network.js';

const HELP = `usage: mizzen down [--run-dir PATH] [--timeout S]

Stops everything \`mizzen up\` started from the run directory: the up process stops its children
(SIGTERM, SIGKILL after their grace periods); whatever is still alive after --timeout seconds
(default 40) is killed.`;

export default defineCommand({
  name: 'down',
  summary: 'stop the local mesh (everything `mizzen up` started)',
  help: HELP,
  runDir: true,
  flags: {
    timeout: { type: 'string' },
  },
  async run({ flags: values, paths }) {
    const timeoutMs = Number(values.timeout ?? 40) * 1000;
    if (!(timeoutMs >= 0)) throw new UsageError('--timeout must be a number of seconds');
    const state = readState(paths);
    if (!state) {
      console.log(`nothing to stop: no mesh state in ${paths.root}`);
      return 0;
    }
    const upAlive = (): boolean => isSameProcess(state.pid, state.pidStartedAt);
    const children = Object.values(state.processes).filter((p) => isSameProcess(p.pid, p.startedAt));
    if (!upAlive() && children.length === 0) {
      console.log(`nothing to stop: the mesh of ${paths.root} is not running`);
      return 0;
    }
    if (upAlive()) {
      console.log(`stopping the mesh (pid ${state.pid}) and its ${children.length} processes…`);
      try {
        process.kill(state.pid, 'SIGTERM');
      } catch {}
      await waitUntil(() => !upAlive(), timeoutMs, 100);
    }
    let killed = 0;
    if (upAlive()) {
      killed++;
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {}
    }
    for (const p of children) if (p.pid && killGroup(p.pid, 'SIGKILL')) killed++;
    const after = readState(paths);
    if (after && after.phase !== 'stopped')
      writeState(paths, { ...after, phase: 'stopped', updatedAt: Date.now() });
    // The up process removes its namespaces; after a crash or SIGKILL this does.
    const net = (after ?? state).network;
    if (net?.mode === 'pod' && net.nsPid === undefined && net.prefix && net.hostLink)
      removeNetwork(net.prefix, net.hostLink);
    console.log(killed ? `stopped (${killed} processes had to be killed)` : 'stopped');
    return 0;
  },
});
