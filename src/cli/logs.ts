// `mizzen logs NAME [-f] [--sidecar]`: a pod's or workload's app (or sidecar) output, like `kubectl logs`.
import { existsSync } from 'node:fs';
import { defineCommand, UsageError } from './command.js';
import { fileTail } from '../local/file-tail.js';
import { prefixFor, useColor } from '../local/log-prefix.js';
import { logFileOf } from '../local/mesh.js';
import { findPods, readState, type RunPaths, type RunState } from '../local/run-state.js';

const HELP = `usage: mizzen logs NAME [-f] [--sidecar | -c CONTAINER] [--tail N] [-n NS] [--run-dir PATH]

NAME is a pod (reviews-v1-…), a Deployment (reviews-v1, deploy/reviews-v1), an app label (reviews),
istio-ingressgateway, or mizzen-server (the control plane). Several pods are shown with [pod] prefixes.

  -f, --follow     keep printing new lines (Ctrl-C stops)
      --sidecar    the pod's sidecar proxy instead of the app (same as -c istio-proxy)
  -c, --container  istio-proxy (the sidecar: its log and access log) or an app container's name
      --tail N     only the last N lines of each log to begin with`;

/** One log to show. */
interface LogSource {
  readonly label: string;
  readonly file: string;
}

function sourcesFor(paths: RunPaths, s: RunState, name: string, sidecar: boolean, ns?: string): LogSource[] {
  const proc = (p: string): LogSource => ({ label: p, file: s.processes[p]?.logFile ?? logFileOf(paths, p) });
  if (['mizzen-server', 'server', 'istiod', 'control-plane'].includes(name)) return [proc(s.server.process)];
  const gwPod = s.gateway.nodeId.split('~')[2]?.split('.')[0];
  if (['istio-ingressgateway', 'gateway', 'ingressgateway', gwPod].includes(name))
    return [proc(s.gateway.process)];
  return findPods(s, name, ns).flatMap((p) =>
    sidecar ? [proc(p.sidecar.process)] : p.appProcesses.map(proc),
  );
}

function lastLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(Math.max(0, lines.length - n)).join('\n') + (lines.length && n > 0 ? '\n' : '');
}

export default defineCommand({
  name: 'logs',
  summary: "print a pod's or workload's logs (app or sidecar), optionally following them",
  help: HELP,
  runDir: true,
  flags: {
    follow: { type: 'boolean', short: 'f' },
    sidecar: { type: 'boolean' },
    container: { type: 'string', short: 'c' },
    tail: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
  },
  args: { min: 1, max: 1, expected: 'one NAME' },
  async run({ flags: values, args: positionals, paths }) {
    const tail = values.tail === undefined ? undefined : Number(values.tail);
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0))
      throw new UsageError('--tail must be a count');
    const s = readState(paths);
    if (!s) {
      console.error(`mizzen logs: no mesh state in ${paths.root} (start one with \`mizzen up DIR\`)`);
      return 1;
    }
    const c = values.container;
    const sidecar = !!values.sidecar || c === 'istio-proxy';
    let sources = sourcesFor(paths, s, positionals[0], sidecar, values.namespace);
    if (c !== undefined && !sidecar) {
      // pod/container process names; a one-container pod's process is the pod name itself.
      const picked = sources.filter((x) => x.label.endsWith(`/${c}`) || !x.label.includes('/'));
      if (picked.length === 0) {
        console.error(
          `mizzen logs: no container "${c}" (containers: istio-proxy, ${sources.map((x) => x.label.split('/')[1] ?? x.label).join(', ')})`,
        );
        return 1;
      }
      sources = picked;
    }
    if (sources.length === 0) {
      const names = s.pods.map((p) => p.name).join(', ');
      console.error(`mizzen logs: no pod or workload named "${positionals[0]}" (pods: ${names || 'none'})`);
      return 1;
    }
    const color = useColor(process.stdout);
    const many = sources.length > 1;
    const emit = (src: LogSource, text: string): void => {
      if (!text) return;
      if (!many) return void process.stdout.write(text);
      const pre = prefixFor(src.label, color);
      const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
      process.stdout.write(lines.map((l) => `${pre} ${l}\n`).join(''));
    };
    const tails = sources.map((src) => ({ src, next: fileTail(src.file) }));
    for (const t of tails) {
      if (!existsSync(t.src.file)) continue;
      emit(t.src, lastLines(t.next(), tail));
    }
    if (!values.follow) return 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (const t of tails) emit(t.src, t.next());
      }, 200);
      const stop = (): void => {
        clearInterval(timer);
        for (const t of tails) emit(t.src, t.next());
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
});
