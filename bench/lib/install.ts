// Makes sure the load generators and reference proxies are installed (Debian packages), with progress messages.
import { runProcess } from './proc.js';

/** A command the benchmark needs and the Debian package that provides it. */
export interface Tool {
  /** Executable name looked up on PATH. */
  command: string;
  /** Debian package to install when missing. */
  pkg: string;
}

/** What the data-plane benchmark runs. */
export const dataPlaneTools: Tool[] = [
  { command: 'nginx', pkg: 'nginx-light' },
  { command: 'haproxy', pkg: 'haproxy' },
  { command: 'wrk', pkg: 'wrk' },
  { command: 'h2load', pkg: 'nghttp2-client' },
];

/** True when `command` is on PATH (or in /usr/sbin, where nginx and haproxy live). */
export async function hasCommand(command: string): Promise<boolean> {
  const r = await runProcess('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command}`]);
  return r.code === 0;
}

/** Installs the packages of the missing tools with apt-get; throws with apt's output when that fails. */
export async function ensureTools(tools: Tool[], log: (line: string) => void): Promise<void> {
  const missing: Tool[] = [];
  for (const t of tools) if (!(await hasCommand(t.command))) missing.push(t);
  if (missing.length === 0) {
    log(`tools: ${tools.map((t) => t.command).join(', ')} present`);
    return;
  }
  const pkgs = missing.map((t) => t.pkg);
  const apt = process.getuid?.() === 0 ? ['apt-get'] : ['sudo', '-n', 'apt-get'];
  const run = (args: string[]) =>
    runProcess(apt[0], [...apt.slice(1), ...args], { DEBIAN_FRONTEND: 'noninteractive' });
  log(`tools: installing ${pkgs.join(' ')} (apt-get update, then apt-get install -y) ...`);
  const upd = await run(['update', '-qq']);
  if (upd.code !== 0) log(`tools: apt-get update failed (continuing): ${upd.stderr.trim().slice(-500)}`);
  log(`tools: apt-get install -y ${pkgs.join(' ')} ...`);
  const inst = await run(['install', '-y', '-qq', ...pkgs]);
  if (inst.code !== 0)
    throw new Error(`apt-get install ${pkgs.join(' ')} failed:\n${inst.stderr.slice(-2000)}`);
  for (const t of missing) {
    if (!(await hasCommand(t.command)))
      throw new Error(`${t.command} still missing after installing ${t.pkg}`);
  }
  log(`tools: installed ${pkgs.join(' ')}`);
}

/** `dpkg-query` version of an installed package ('' when unknown). */
export async function packageVersion(pkg: string): Promise<string> {
  const r = await runProcess('dpkg-query', ['-W', '-f=${Version}', pkg]);
  return r.code === 0 ? r.stdout.trim() : '';
}
