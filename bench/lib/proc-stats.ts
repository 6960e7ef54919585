// CPU time and resident memory of a process and its descendants, read from /proc/PID/stat and status.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One reading of a process tree. */
export interface ProcSample {
  /** user + system CPU time of every process in the tree, seconds. */
  cpuSeconds: number;
  /** Sum of VmRSS over the tree, bytes. */
  rssBytes: number;
  /** The pids read (root first). */
  pids: number[];
}

let ticks = 0;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux). */
function clockTicks(): number {
  if (ticks) return ticks;
  try {
    ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    ticks = 100;
  }
  return ticks;
}

/** Fields of /proc/PID/stat after the `(comm)` field: [state, ppid, ..., utime at 11, stime at 12]. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text
      .slice(text.lastIndexOf(')') + 2)
      .trim()
      .split(' ');
  } catch {
    return null;
  }
}

/** `root` and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const f = statFields(pid);
    if (!f) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** VmRSS of one process, bytes (0 when gone). */
export function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) of one process (0 when gone). */
export function cpuOf(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / clockTicks() : 0;
}

/** Reads CPU and RSS of `root` and its descendants. */
export function sampleTree(root: number): ProcSample {
  const pids = processTree(root);
  let cpuSeconds = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    cpuSeconds += cpuOf(pid);
    rssBytes += rssOf(pid);
  }
  return { cpuSeconds, rssBytes, pids };
}

/** Samples a process tree every `everyMs` while a task runs; returns the peak RSS seen. */
export function watchPeakRss(root: number, everyMs = 250): { stop(): number } {
  let peak = sampleTree(root).rssBytes;
  const timer = setInterval(() => {
    peak = Math.max(peak, sampleTree(root).rssBytes);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, sampleTree(root).rssBytes);
    },
  };
}
