// `mizzen dashboard`: serves the web UI (graph, config health, route explainer) for the running mesh
// or a named control plane, prints its URL and runs until Ctrl-C, like `istioctl dashboard`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand, UsageError } from './command.js';
import { liveState } from '../local/run-state.js';
import { prometheusDir } from '../local/prometheus.js';
import { readTargetsFile } from '../dashboard/metrics-source.js';
import { DASHBOARD_PORT, startDashboard } from '../dashboard/start.js';

const HELP = `usage: mizzen dashboard [--run-dir PATH] [--server HOST:PORT] [--prometheus HOST:PORT | --no-prometheus]
                        [--address IP] [--port N]

Serves Mizzen's dashboard and prints its URL (it opens nothing): a live graph of the mesh from Istio's
metrics (request rate, errors, p99, protocol, mTLS, configured vs observed weights), the health of every
resource and proxy (rejected config with file:line:col, analyzer warnings, sync state, NACKs), and a
route explainer. Read-only; runs until Ctrl-C.

  --server HOST:PORT      the control plane's debug address (default: the local mesh's, from the run dir)
  --prometheus HOST:PORT  read metrics from this Prometheus (default: the one \`up --with-prometheus\`
                          started, if any); otherwise the proxies' :15020 listed in
                          <run-dir>/prometheus/targets.json are scraped every 2 s
  --no-prometheus         scrape the proxies even when a Prometheus runs
  --address IP            where to listen (default 127.0.0.1)
  --port N                port to listen on (default ${DASHBOARD_PORT}, the next free one if taken; 0: any)`;

export default defineCommand({
  name: 'dashboard',
  summary: 'serve the web dashboard (graph, config health, route explainer) and print its URL',
  help: HELP,
  runDir: true,
  flags: {
    server: { type: 'string' },
    prometheus: { type: 'string' },
    'no-prometheus': { type: 'boolean' },
    address: { type: 'string' },
    port: { type: 'string' },
  },
  args: { min: 0, max: 0, expected: 'no arguments' },
  async run({ flags, paths }) {
    const port = Number(flags.port ?? DASHBOARD_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be a port number, got "${flags.port}"`);
    const live = liveState(paths);
    // A rootless mesh's addresses are inside its own network namespace: `up --dashboard` serves it there
    // and publishes it here.
    if (!flags.server && 'state' in live && live.state.network?.nsPid !== undefined) {
      if (live.state.dashboardUrl) {
        console.log(
          `dashboard: ${live.state.dashboardUrl} (served by the rootless mesh's \`up --dashboard\`)`,
        );
        return 0;
      }
      console.error(
        'mizzen dashboard: this mesh runs rootless, in a network namespace of its own that this command cannot ' +
          'serve from; start it with `mizzen up --dashboard`, which publishes the dashboard on this machine',
      );
      return 1;
    }
    const controlPlane = flags.server ?? ('state' in live ? live.state.debugAddress : undefined);
    if (!controlPlane) {
      console.error(
        `mizzen dashboard: ${'error' in live ? live.error : ''}; or name the control plane with --server`,
      );
      return 1;
    }
    const prometheus = flags['no-prometheus']
      ? undefined
      : (flags.prometheus ?? ('state' in live ? live.state.prometheusAddress : undefined));
    const targetsFile = join(prometheusDir(paths.root), 'targets.json');
    let dash;
    try {
      dash = await startDashboard({
        controlPlane,
        ...(prometheus ? { prometheus } : {}),
        targets: () => readTargetsFile(targetsFile),
        ...('state' in live ? { runPaths: paths } : {}),
        ...(flags.address ? { address: flags.address } : {}),
        port,
      });
    } catch (err) {
      console.error(`mizzen dashboard: ${(err as Error).message}`);
      return 1;
    }
    const from = prometheus ? `Prometheus at ${prometheus}` : `the proxies listed in ${targetsFile}`;
    if (!prometheus && !existsSync(targetsFile))
      console.error(
        `mizzen dashboard: warning: ${targetsFile} does not exist, so the graph has no metrics; name a Prometheus with --prometheus or use the run dir of a mizzen up`,
      );
    console.log(
      `dashboard: ${dash.url} (control plane ${controlPlane}, metrics from ${from}); Ctrl-C stops it`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await dash.close();
    return 0;
  },
});
