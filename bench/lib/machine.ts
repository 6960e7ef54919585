// Facts about the machine and software a benchmark ran on, for the report header.
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { packageVersion } from './install.js';
import { repoRoot } from './paths.js';
import { runProcess } from './proc.js';

/** What the report says about where it ran. */
export interface MachineFacts {
  host: string;
  cores: number;
  model: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** Debian package → version. */
  packages: Record<string, string>;
  /** Mizzen commit (with `+dirty` when the tree had changes). */
  commit: string;
  /** 1-minute load average when the run started. */
  loadAtStart: number;
}

/** Collects the facts (package versions via dpkg-query). */
export async function machineFacts(pkgs: string[]): Promise<MachineFacts> {
  const packages: Record<string, string> = {};
  for (const p of pkgs) packages[p] = (await packageVersion(p)) || 'not installed';
  const rev = await runProcess('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']);
  const dirty = await runProcess('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no']);
  return {
    host: hostname(),
    cores: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    packages,
    commit: rev.stdout.trim() + (dirty.stdout.trim() ? '+dirty' : ''),
    loadAtStart: loadavg()[0] ?? 0,
  };
}
