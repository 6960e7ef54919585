// Rootless pod network mode (Linux user namespaces, as rootless Podman and rootlesskit run containers):
// `up` re-runs itself inside a new user + network namespace where it is root, so the pod network is
// built there exactly as root mode builds it on the host, with three differences that pod-network.ts
// and pod-mode.ts take from here — the "node" namespace is that namespace itself, pod namespaces are
// held by a process instead of /run/netns, and nothing leaves the machine (no veth to the host, no
// NAT). The process the user started stays on the host and publishes the mesh's loopback ports there
// (port-relay.ts); CLI commands that reach into the mesh re-enter the namespace with nsenter.
import { execFileSync, spawnSync } from 'node:child_process';
import { PROXY_GID } from './capture-rules.js';
import { onPath } from './pod-network.js';

/** Set in the inner `up`'s environment to the outer (host) process's pid. */
export const ROOTLESS_INNER_ENV = 'MIZZEN_ROOTLESS_INNER';
/** Set when a CLI command has re-entered a rootless mesh's namespace (so it does not do it again). */
export const IN_MESH_NS_ENV = 'MIZZEN_IN_MESH_NS';

// Read once and taken out of the environment, so the mesh's own processes do not inherit it.
const OUTER_PID = Number(process.env[ROOTLESS_INNER_ENV]);
delete process.env[ROOTLESS_INNER_ENV];

/** The outer process's pid when this process is a rootless mesh's inner `up`, else null. */
export function rootlessOuterPid(): number | null {
  return Number.isInteger(OUTER_PID) && OUTER_PID > 0 ? OUTER_PID : null;
}

/**
 * argv that runs `argv` as root of a new user namespace (this user as uid 0, the user's
 * /etc/subuid and /etc/subgid ranges from 1, so Istio's proxy group 1337 exists) with its own network.
 */
export function inNewUserNamespace(argv: readonly string[]): string[] {
  return ['unshare', '--user', '--map-root-user', '--map-auto', '--net', '--', ...argv];
}

/** argv that runs `argv` in the user and network namespace of process `pid`. */
export function inMeshNamespace(pid: number, argv: readonly string[]): string[] {
  return ['nsenter', `--target=${pid}`, '--user', '--net', '--preserve-credentials', '--', ...argv];
}

/** Why rootless pod mode cannot run here, or null when it can (tried for real: namespace, bridge, nat, group). */
export function rootlessUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  for (const [tool, pkg] of [
    ['unshare', 'util-linux'],
    ['nsenter', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['newuidmap', 'uidmap'],
    ['newgidmap', 'uidmap'],
    ['ip', 'iproute2'],
    ['iptables-restore', 'iptables'],
  ] as const)
    if (!onPath(tool)) return `${tool} is not installed (Debian: apt-get install ${pkg})`;
  const probe =
    'ip link add mzprobe0 type bridge && printf "*nat\\nCOMMIT\\n" | iptables-restore && ' +
    `setpriv --regid=${PROXY_GID} --clear-groups true`;
  const [cmd, ...args] = inNewUserNamespace(['sh', '-c', probe]);
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    const text =
      String(err.stderr ?? '')
        .trim()
        .split('\n')[0] || String(e);
    return (
      `user namespaces do not work here (${text}); they need the kernel to allow unprivileged user ` +
      'namespaces and ranges for this user in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids)'
    );
  }
  return null;
}

/**
 * Runs a CLI command again inside a rootless mesh's namespace (where pod IPs and the mesh's loopback
 * ports are reachable); its exit code. `args` are the command's own (after `mizzen`).
 */
export function reenterMeshNamespace(pid: number, args: readonly string[]): number {
  const argv = inMeshNamespace(pid, [process.execPath, ...process.execArgv, process.argv[1], ...args]);
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, [IN_MESH_NS_ENV]: '1' },
  });
  if (r.error) {
    console.error(`cannot enter the mesh's namespace (nsenter): ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}
