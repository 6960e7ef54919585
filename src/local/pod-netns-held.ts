// Pod namespaces without /run/netns, for rootless pod mode: `ip netns add` needs to write /run/netns,
// which only root can, so each pod's network namespace is held open by a child process (`unshare --net
// cat`, which ends when this process's end of its stdin closes, so a crash leaves nothing behind) and
// named by a directory of the run that also holds the pod's resolv.conf and hosts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const holders = new Map<string, ChildProcess>();

/** Blocks this thread for `ms` (setup code only: namespaces are made synchronously, as with iproute2). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function netnsOf(pid: number | 'self'): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return '';
  }
}

/** Starts the holder of a new network namespace named by `dir` (created); its pid. */
export function createHeldNetns(dir: string): number {
  deleteHeldNetns(dir);
  mkdirSync(dir, { recursive: true });
  const holder = spawn('unshare', ['--net', '--', 'cat'], { stdio: ['pipe', 'ignore', 'ignore'] });
  holder.on('error', () => {});
  holder.stdin.on('error', () => {});
  const pid = holder.pid;
  if (pid === undefined) throw new Error('unshare --net: could not start');
  const mine = netnsOf('self');
  const deadline = Date.now() + 5000;
  for (;;) {
    const ns = netnsOf(pid);
    if (ns && ns !== mine) break;
    if (holder.exitCode !== null || Date.now() > deadline) {
      holder.kill('SIGKILL');
      throw new Error('unshare --net: the namespace holder did not start');
    }
    pause(5);
  }
  holders.set(dir, holder);
  writeFileSync(join(dir, 'pid'), `${pid}\n`);
  return pid;
}

/** The holder pid of the namespace named by `dir`. */
export function heldNetnsPid(dir: string): number {
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${dir}/pid: not a pid`);
  return pid;
}

/** Ends the namespace's holder and removes its directory. */
export function deleteHeldNetns(dir: string): void {
  const holder = holders.get(dir);
  holders.delete(dir);
  holder?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

/** Ends every holder this process started (the namespaces go once their pods' processes have). */
export function deleteAllHeldNetns(): void {
  for (const dir of [...holders.keys()]) deleteHeldNetns(dir);
}

/**
 * Binds the pod's resolv.conf and hosts over /etc's in a mount namespace of the command's own (what
 * `ip netns exec` does with /etc/netns/NAME), then runs the command.
 */
const BIND_ETC =
  'd=$1; shift; for f in resolv.conf hosts; do ' +
  'if [ -e /etc/$f ]; then mount --bind "$d/$f" /etc/$f || exit 125; fi; done; exec "$@"';

/** argv that runs `argv` in the held namespace `dir`, with the pod's /etc files. */
export function inHeldNetns(dir: string, argv: readonly string[]): string[] {
  return [
    'nsenter',
    `--net=/proc/${heldNetnsPid(dir)}/ns/net`,
    '--',
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    BIND_ETC,
    'mizzen-pod',
    dir,
    ...argv,
  ];
}
