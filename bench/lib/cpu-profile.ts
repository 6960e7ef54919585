// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { repoRoot } from './paths.js';

/** One function's share of the profile. */
export interface ProfileEntry {
  /** `name (file:line)`. */
  fn: string;
  /** Self time, milliseconds. */
  selfMs: number;
  /** Share of all sampled time, percent. */
  pct: number;
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  startTime: number;
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * The `limit` functions with the most self time (samples weighted by their time deltas), counting only
 * samples within `window` (ms since the profile started), e.g. the load run without start-up.
 */
export function topSelfTime(
  file: string,
  limit = 15,
  window: { fromMs: number; toMs: number } = { fromMs: 0, toMs: Infinity },
): { total: number; top: ProfileEntry[]; byArea: ProfileEntry[] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nameOf = new Map<number, string>();
  for (const n of prof.nodes) nameOf.set(n.id, label(n.callFrame));
  const self = new Map<string, number>();
  let total = 0;
  let at = 0; // µs since the profile started
  for (let i = 0; i < prof.samples.length; i++) {
    at += prof.timeDeltas[i] ?? 0;
    if (at < window.fromMs * 1000 || at > window.toMs * 1000) continue;
    const us = prof.timeDeltas[i + 1] ?? 0; // a sample's delta is the time until the next sample
    const name = nameOf.get(prof.samples[i]) ?? '?';
    self.set(name, (self.get(name) ?? 0) + us);
    total += us;
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([fn, us]) => ({ fn, selfMs: us / 1000, pct: total ? (100 * us) / total : 0 }));
  const areas = new Map<string, number>();
  for (const [fn, us] of self) areas.set(areaOf(fn), (areas.get(areaOf(fn)) ?? 0) + us);
  const byArea = [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([fn, us]) => ({ fn, selfMs: us / 1000, pct: total ? (100 * us) / total : 0 }));
  return { total: total / 1000, top, byArea };
}

/** Which part of the stack a labelled function belongs to. */
function areaOf(fn: string): string {
  const where = /\(([^()]*):\d+\)$/.exec(fn)?.[1];
  if (!where) return fn.startsWith('(') ? fn : 'native (V8 / libuv / syscalls, e.g. writev)'; // (idle), (program), ...
  if (where.startsWith('dist/src/proxy/')) return `Mizzen proxy: ${where.split('/').slice(3, 4).join('/')}/`;
  if (where.startsWith('dist/')) return 'Mizzen (other)';
  if (where.includes('node_modules/')) return 'npm dependencies';
  return 'Node.js core (http, net, streams, events)';
}

function label(cf: CpuProfileNode['callFrame']): string {
  const name = cf.functionName || '(anonymous)';
  if (!cf.url) return name;
  let where = cf.url.replace(/^file:\/\//, '');
  if (where.startsWith(repoRoot)) where = relative(repoRoot, where);
  else if (where.startsWith('node:')) where = where.slice(5);
  return `${name} (${where}:${cf.lineNumber + 1})`;
}
