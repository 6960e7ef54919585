// Prints process output lines as `[name] line`, the prefix coloured per pod when writing to a terminal.
import type { Writable } from 'node:stream';
import { fnv1a } from './pod-ip.js';

const COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** Whether to colour output on this stream (a TTY, and NO_COLOR unset). */
export function useColor(out: Writable): boolean {
  return !!(out as Writable & { isTTY?: boolean }).isTTY && !process.env['NO_COLOR'];
}

/** `[name]`, coloured by the pod part of the name (a pod and its sidecar share a colour). */
export function prefixFor(name: string, color: boolean): string {
  if (!color) return `[${name}]`;
  const c = COLORS[fnv1a(name.split(/[ /]/)[0]) % COLORS.length];
  return `\x1b[${c}m[${name}]\x1b[0m`;
}

/** A line sink writing `[name] line` to `out`. */
export function linePrinter(out: Writable): (name: string, line: string) => void {
  const color = useColor(out);
  return (name, line) => {
    out.write(`${prefixFor(name, color)} ${line}\n`);
  };
}
