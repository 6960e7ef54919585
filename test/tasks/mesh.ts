// Helpers for the Istio task walkthroughs: run the real `mizzen` CLI against a run dir, plain HTTP/TCP clients.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES, runMizzen } from '../../src/cli/test-util.js';
import { freeGatewayPort } from '../../src/local/ports.js';
import { readState, runPaths, type PodRecord, type RunState } from '../../src/local/run-state.js';

export { BIN, EXAMPLES, type CliResult } from '../../src/cli/test-util.js';
/** Runs `mizzen ARGS` to completion without blocking this process's event loop; `input` goes to stdin. */
export const mizzen = runMizzen;

/** A mesh run by `mizzen up -d` in its own temporary run directory. */
export interface Mesh {
  /** The run directory (`--run-dir`). */
  readonly run: string;
  /** The temporary folder holding the run directory. */
  readonly tmp: string;
  /** Where the gateway's port 80 is published on 127.0.0.1. */
  readonly gatewayPort: number;
  /** Wall time of `mizzen up -d` until it returned with everything ready (s). */
  upSeconds: number;
  /** What `up` itself reported as "all ready in N s" (s; NaN when it did not say). */
  readySeconds: number;
  /** Everything `up -d` printed. */
  upOutput: string;
}

/** A run directory and a free gateway port, nothing started yet. */
export async function newMesh(): Promise<Mesh> {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-task-'));
  return {
    run: join(tmp, 'run'),
    tmp,
    gatewayPort: await freeGatewayPort(),
    upSeconds: NaN,
    readySeconds: NaN,
    upOutput: '',
  };
}

/** `mizzen up DIR -d [extraArgs…]` on free ports; asserts that it came up. Always pair with `meshDown` in an `after` hook. */
export async function meshUp(m: Mesh, dir: string, extraArgs: readonly string[] = []): Promise<void> {
  const t0 = Date.now();
  const r = await mizzen(
    [
      'up',
      dir,
      '-d',
      '--run-dir',
      m.run,
      '--xds-port',
      '0',
      '--debug-port',
      '0',
      '--gateway-port-offset',
      String(m.gatewayPort - 80),
      '--timeout',
      '150',
      ...extraArgs,
    ],
    undefined,
    200_000,
  );
  m.upSeconds = (Date.now() - t0) / 1000;
  m.upOutput = `${r.out}${r.err}`;
  m.readySeconds = Number(/all ready in ([\d.]+)s/.exec(m.upOutput)?.[1] ?? NaN);
  assert.equal(r.code, 0, r.code === 0 ? '' : `${m.upOutput}${logTails(m)}`);
}

/**
 * When `up` gave up: the last lines of the control plane's log and of each pod `up` named as not ready
 * (its sidecar's and apps' logs), so a failure on a loaded CI machine says why without a rerun.
 */
function logTails(m: Mesh): string {
  const named = new Set(
    [...m.upOutput.matchAll(/not ready after [^:]*: (.*)/g)].flatMap((x) =>
      x[1].split(', ').map((w) => w.split(' ')[0]),
    ),
  );
  return tails(m, (f) => f === 'mizzen-server.log' || [...named].some((pod) => f.startsWith(`${pod}.`)));
}

/**
 * The last lines of the logs (sidecar, with its access log, and apps) of every pod of these workloads:
 * for an assertion message, so a failed request says what each proxy on its way saw.
 */
export function podLogs(m: Mesh, ...workloads: string[]): string {
  const pods = (readState(runPaths(m.run))?.pods ?? [])
    .filter((p) => workloads.includes(p.workload))
    .map((p) => p.name);
  return tails(m, (f) => pods.some((pod) => f.startsWith(`${pod}.`)));
}

/** The last 40 lines of each log file of the run whose name passes `pick`. */
function tails(m: Mesh, pick: (file: string) => boolean): string {
  const logs = runPaths(m.run).logs;
  let out = '';
  for (const f of existsSync(logs) ? readdirSync(logs).filter(pick) : []) {
    const path = join(logs, f);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    out += `\n--- last ${Math.min(lines.length, 40)} lines of ${path} ---\n${lines.slice(-40).join('\n')}`;
  }
  return out;
}

/** `mizzen down`, then removes the temporary folder. Never throws. */
export async function meshDown(m: Mesh | undefined): Promise<void> {
  if (!m) return;
  await mizzen(['down', '--run-dir', m.run], undefined, 90_000);
  rmSync(m.tmp, { recursive: true, force: true });
}

/** `mizzen ARGS --run-dir RUN`; asserts exit code 0 and returns stdout. */
export async function cli(m: Mesh, args: string[], input?: string): Promise<string> {
  const r = await mizzen([...args, '--run-dir', m.run], input);
  assert.equal(r.code, 0, `mizzen ${args.join(' ')} failed:\n${r.out}${r.err}`);
  return r.out;
}

/** `mizzen apply -f F1 -f F2 …` with paths under examples/. */
export function apply(m: Mesh, ...files: string[]): Promise<string> {
  return cli(m, ['apply', ...files.flatMap((f) => ['-f', join(EXAMPLES, f)])]);
}

/** `mizzen apply -f -` with YAML on stdin (as Istio's tasks do with `kubectl apply -f - <<EOF`). */
export function applyYaml(m: Mesh, yaml: string): Promise<string> {
  return cli(m, ['apply', '-f', '-'], yaml);
}

/** The run's state.json. */
export function runState(m: Mesh): RunState {
  const s = readState(runPaths(m.run));
  assert.ok(s, `no state.json in ${m.run}`);
  return s;
}

/** The first pod of a workload (Deployment name). */
export function podOf(m: Mesh, workload: string): PodRecord {
  const p = runState(m).pods.find((x) => x.workload === workload);
  assert.ok(p, `no pod of ${workload}`);
  return p;
}

/** One row of `mizzen status -o json`. */
export interface StatusRow {
  name: string;
  ready: string;
  status: string;
  sidecar: string;
}

/** Waits until a workload's pod is 2/2 Running with its sidecar SYNCED. */
export async function waitPodReady(m: Mesh, workload: string, timeoutMs = 60_000): Promise<void> {
  let rows: StatusRow[] = [];
  await eventually(
    `${workload} 2/2 Running, SYNCED`,
    async () => {
      const r = await mizzen(['status', '-o', 'json', '--run-dir', m.run]);
      if (r.code !== 0) return false;
      rows = (JSON.parse(r.out) as { pods: StatusRow[] }).pods;
      return rows.some(
        (x) =>
          x.name.startsWith(`${workload}-`) &&
          /^[a-z0-9]+-[a-z0-9]{5}$/.test(x.name.slice(workload.length + 1)) &&
          x.ready === '2/2' &&
          x.status === 'Running' &&
          x.sidecar === 'SYNCED',
      );
    },
    timeoutMs,
    500,
    () => JSON.stringify(rows),
  );
}

/** Polls `check` until true; fails the test with `what` (and `detail()`) after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 200,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`not seen within ${timeoutMs / 1000} s: ${what} ${detail()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An HTTP answer; status 0 when the request failed or timed out (then `error` says why). */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Time from sending to the end of the body (ms). */
  ms: number;
  error?: string;
}

/** Options of `request`. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** Send in absolute form to this HTTP proxy (`host:port`), as apps do to their sidecar. */
  proxy?: string;
}

/** One HTTP/1.1 request on a fresh connection. */
export function request(url: string, o: RequestOptions = {}): Promise<Reply> {
  const target = new URL(url);
  const [host, port] = o.proxy ? o.proxy.split(':') : [target.hostname, target.port || '80'];
  const t0 = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<Reply, 'ms'>): void => {
      if (done) return;
      done = true;
      resolve({ ...r, ms: Date.now() - t0 });
    };
    const req = http.request(
      {
        host,
        port: Number(port),
        method: o.method ?? 'GET',
        path: o.proxy ? target.href : target.pathname + target.search,
        headers: { host: target.host, connection: 'close', ...o.headers },
        agent: false,
        timeout: o.timeoutMs ?? 30_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', (e) => finish({ status: 0, headers: {}, body, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => finish({ status: 0, headers: {}, body: '', error: e.message }));
    req.end(o.body);
  });
}

/**
 * Opens a TCP connection, sends `line\n`, and resolves with the first line that comes back ('' on error or
 * timeout). `halfClose` sends FIN right after the line (as `nc -N` does) and still waits.
 */
export function tcpLine(port: number, line: string, timeoutMs = 5000, halfClose = false): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () =>
      halfClose ? s.end(`${line}\n`) : s.write(`${line}\n`),
    );
    let buf = '';
    const done = (v: string): void => {
      s.destroy();
      resolve(v);
    };
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => done(''));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl !== -1) done(buf.slice(0, nl));
    });
    s.on('error', () => done(''));
    s.on('close', () => done(''));
  });
}

/** Counts equal values. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** One Prometheus instant query against the mesh's Prometheus: `{ labelValue: value }` by the one grouping label. */
export async function prometheusQuery(
  mesh: Mesh,
  query: string,
  by: string,
  /** Evaluation time (Unix seconds); queries that must agree with each other are evaluated at one time. */
  at?: number,
): Promise<Record<string, number>> {
  const addr = runState(mesh).prometheusAddress;
  assert.ok(addr, 'state.json names no Prometheus');
  const time = at === undefined ? '' : `&time=${at.toFixed(3)}`;
  const r = await request(`http://${addr}/api/v1/query?query=${encodeURIComponent(query)}${time}`);
  if (r.status !== 200) return {};
  const out: Record<string, number> = {};
  for (const s of JSON.parse(r.body).data.result as {
    metric: Record<string, string>;
    value: [number, string];
  }[])
    out[s.metric[by] ?? ''] = Number(s.value[1]);
  return out;
}
