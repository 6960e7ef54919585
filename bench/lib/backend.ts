// The backend every target forwards to: measures nginx serving a 1 KiB file against the minimal Node server
// and keeps the faster one, so the backend is not what limits the proxies.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startNginx } from './nginx.js';
import { benchDist } from './paths.js';
import { freePort, startProcess, type Running } from './proc.js';
import { runWrk } from './wrk.js';

/** The running backend. */
export interface Backend {
  proc: Running;
  /** HTTP/1.1 port. */
  port: number;
  /** h2c port (the direct HTTP/2 baseline). */
  h2Port: number;
  /** Which backend was chosen and why. */
  info: { chosen: string; nginxRps: number; nodeRps: number; workers: number };
  /** How it was started. */
  commands: string[];
}

const WORKERS = 2;

/** Starts both candidates, measures each with wrk -c50 for `probeSeconds`, keeps the faster and stops the other. */
export async function startBackend(
  tmpDir: string,
  probeSeconds: number,
  log: (l: string) => void,
): Promise<Backend> {
  const dir = join(tmpDir, 'backend-nginx');
  mkdirSync(dir, { recursive: true });
  const ng = { dir, port: await freePort(), h2Port: await freePort(), workers: WORKERS };
  const nodePort = await freePort();
  const nodeH2 = await freePort();
  const script = join(benchDist, 'backend-server.js');
  const nginx = await startNginx(ng);
  const node = await startProcess(
    process.execPath,
    [script, '--port', String(nodePort), '--h2-port', String(nodeH2)],
    {
      waitFor: /h2c listening/,
    },
  );
  const probe = async (port: number): Promise<number> =>
    (await runWrk({ url: `http://127.0.0.1:${port}/1k`, connections: 50, seconds: probeSeconds, tmpDir }))
      .rps;
  const nginxRps = await probe(ng.port);
  const nodeRps = await probe(nodePort);
  log(
    `backend: nginx (1 KiB file, ${WORKERS} workers) ${nginxRps.toFixed(0)} req/s, Node ${nodeRps.toFixed(0)} req/s`,
  );
  const useNginx = nginxRps >= nodeRps;
  await (useNginx ? node : nginx).stop();
  return {
    proc: useNginx ? nginx : node,
    port: useNginx ? ng.port : nodePort,
    h2Port: useNginx ? ng.h2Port : nodeH2,
    info: {
      chosen: useNginx ? 'nginx (1 KiB file)' : 'Node http server',
      nginxRps,
      nodeRps,
      workers: WORKERS,
    },
    commands: useNginx
      ? [`nginx -p ${dir} -c ${dir}/nginx.conf   (backend: worker_processes ${WORKERS}, serves /1k)`]
      : [`node dist/bench/backend-server.js --port ${nodePort} --h2-port ${nodeH2}`],
  };
}
