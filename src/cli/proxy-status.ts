// `mizzen proxy-status`: every connected proxy's per-type xDS sync state, like istioctl proxy-status.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { httpGet } from '../local/readiness.js';
import { liveState, resolveRunDir, runPaths } from '../local/run-state.js';
import { formatProxyStatus } from './proxy-config/format.js';

const HELP = `usage: mizzen proxy-status [--run-dir PATH] [--server HOST:PORT] [-o json]

Lists the proxies connected to the control plane (its /debug/syncz) with, per xDS type (CDS LDS EDS RDS
ECDS), SYNCED (the last version sent was ACKed), STALE (sent but not yet ACKed, or NACKed) or NOT SENT.
--server names the control plane's debug address; otherwise the local mesh's (state.json) is used.`;

const proxyStatus: Command = {
  name: 'proxy-status',
  summary: "show every proxy's xDS sync state per type (like istioctl proxy-status)",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'run-dir': { type: 'string' },
        server: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${HELP}`);
    if (values.output && values.output !== 'json') throw new UsageError('-o must be json');
    let server = values.server;
    if (!server) {
      const live = liveState(runPaths(resolveRunDir(values['run-dir'])));
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
};
export default proxyStatus;
