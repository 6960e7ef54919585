// One worker of a `--concurrency N` proxy: the whole proxy (its own xDS stream, clusters, pools, listeners
// on the primary's shared sockets) without an admin port; answers the primary's admin and stats requests.
import { setLogTag } from '../log.js';
import { Proxy, type ProxyOptions } from '../proxy.js';
import { snapshotStats } from '../stats/stats-merge.js';
import type { FromWorker, ToWorker } from './messages.js';

function send(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

/**
 * Runs worker `index` until SIGTERM/SIGINT (the primary stops its workers with SIGTERM) and exits the
 * process: the IPC channel would otherwise keep it alive. An error while reading the options (the
 * bootstrap) or starting exits 1 before "started", which the primary treats as fatal.
 */
export async function runWorker(index: number, options: () => Promise<ProxyOptions>): Promise<never> {
  setLogTag(`[worker ${index}] `);
  let stopping = false;
  let proxy: Proxy | null = null;
  const exit = (code: number): void => {
    // Two turns let the access log's per-turn batch reach stdout before the process ends.
    setImmediate(() => setImmediate(() => process.exit(code)));
  };
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (proxy) void proxy.close().then(() => exit(0));
    else exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    proxy = await Proxy.start({
      ...(await options()),
      listenAdmin: false,
      readyFile: null,
      onQuit: undefined,
      onPorts: (ports) => send({ t: 'ports', ports }),
    });
  } catch (e) {
    process.stderr.write(`mizzen proxy: worker ${index}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const p = proxy;
  if (stopping) {
    await p.close();
    process.exit(0);
  }
  process.on('message', (m: ToWorker) => {
    if (m.t === 'admin') {
      // The primary handles /quitquitquit itself, so a reply's `after` hook is never needed here.
      Promise.resolve()
        .then(() => p.admin.respond(m.method, m.url))
        .then(
          ({ status, contentType, body }) =>
            send({ t: 'admin', id: m.id, reply: { status, contentType, body } }),
          (e: Error) =>
            send({
              t: 'admin',
              id: m.id,
              reply: { status: 500, contentType: 'text/plain', body: `${e.message}\n` },
            }),
        );
    } else if (m.t === 'stats') {
      send({ t: 'stats', id: m.id, snap: snapshotStats(p.store) });
    }
  });
  send({ t: 'started', admin: p.adminBind() });
  return new Promise<never>(() => {});
}
