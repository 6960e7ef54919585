// The host side of a rootless `mizzen up` (src/local/rootless.ts): runs the real `up` as root of a new
// user and network namespace, publishes the mesh's loopback ports (gateway, Prometheus, dashboard) on
// the host's 127.0.0.1 through the run's port relay, passes `down`'s SIGTERM on, and ends with it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadPaths } from '../api/load.js';
import { manifestFiles } from '../local/config-dir.js';
import { gatewayPorts } from '../local/gateway-ports.js';
import { mizzenCommand } from '../local/mesh.js';
import { canBind } from '../local/ports.js';
import { PortPublisher } from '../local/port-relay.js';
import { inNewUserNamespace, ROOTLESS_INNER_ENV } from '../local/rootless.js';
import { readState, type RunPaths, type RunState } from '../local/run-state.js';

/** Where the inner `up` serves the port relay. */
export function portRelayPath(paths: RunPaths): string {
  return join(paths.root, 'ports.sock');
}

/** Loopback ports of a run that the host should reach: the gateway's, Prometheus's and the dashboard's. */
export function meshLoopbackPorts(s: RunState): number[] {
  const out = s.gateway.ports.map((p) => p.published);
  const prom = /:(\d+)$/.exec(s.prometheusAddress ?? '');
  if (prom) out.push(Number(prom[1]));
  const dash = /:(\d+)\/?$/.exec(s.dashboardUrl ?? '');
  if (dash) out.push(Number(dash[1]));
  return out;
}

/** Runs `mizzen ARGS` (an `up` of the same options) in a new user namespace; its exit code. */
export async function runRootlessOuter(
  o: { readonly dir: string; readonly paths: RunPaths; readonly offset: number },
  innerArgs: readonly string[],
  say: (line: string) => void,
): Promise<number> {
  // The gateway's ports are published here: taken ones fail now, as in root mode.
  const resources = loadPaths(manifestFiles(o.dir, o.paths.root)).resources;
  for (const p of gatewayPorts(resources, o.offset))
    if (!(await canBind('127.0.0.1', p.published))) {
      say(
        `cannot start: 127.0.0.1:${p.published} is in use: the gateway cannot publish port ${p.port} there; free it` +
          (p.port < 1024 ? ' or choose another --gateway-port-offset' : ''),
      );
      return 1;
    }
  const [cmd, ...args] = inNewUserNamespace([...mizzenCommand(), ...innerArgs]);
  const child = spawn(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, [ROOTLESS_INNER_ENV]: String(process.pid) },
  });
  const publisher = new PortPublisher(portRelayPath(o.paths), say);
  let publishing = false;
  const timer = setInterval(() => {
    if (publishing) return;
    const s = readState(o.paths);
    if (!s || s.pid !== process.pid || s.network?.nsPid === undefined) return;
    publishing = true;
    void publisher.publish(meshLoopbackPorts(s)).finally(() => (publishing = false));
  }, 250);
  // A terminal's Ctrl-C reaches the inner `up` too (same process group): only `down`'s SIGTERM is passed on.
  const pass = (): void => {
    child.kill('SIGTERM');
  };
  const ignore = (): void => {};
  process.on('SIGTERM', pass);
  process.on('SIGINT', ignore);
  process.on('SIGHUP', ignore);
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        say(`cannot start the rootless mesh: ${err.message}`);
        resolve(1);
      });
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    clearInterval(timer);
    publisher.close();
    process.off('SIGTERM', pass);
    process.off('SIGINT', ignore);
    process.off('SIGHUP', ignore);
  }
}
