// Helpers for the example-app tests: run an example as a child process, capture servers, plain HTTP calls.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository's examples/ folder (tests run from dist/test/examples/). */
export const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

/** A running example app. */
export interface App {
  /** Ports it printed in `listening on HOST:PORT` lines, in order. */
  ports: number[];
  /** The first port. */
  port: number;
  /** Everything it printed to stdout so far, one entry per line. */
  lines: string[];
  /** Stops it (SIGTERM, then SIGKILL after 2 s) and waits for the exit. */
  stop(): Promise<void>;
}

/** Options for spawnApp. */
export interface SpawnOptions {
  /** Extra environment; the child gets only PATH, HOST=127.0.0.1, PORT=0 and these (no inherited proxy vars). */
  env?: Record<string, string>;
  /** Command-line arguments after the script. */
  args?: string[];
  /** How many `listening on` lines to wait for (default 1). */
  listeners?: number;
}

/**
 * Runs `node <script>` with the script's folder as working directory and waits until it has printed
 * `listeners` lines `listening on HOST:PORT`.
 * @param script path under examples/, e.g. `bookinfo/ratings/ratings.mjs`
 */
export function spawnApp(script: string, options: SpawnOptions = {}): Promise<App> {
  const file = path.join(EXAMPLES, script);
  const env = { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...options.env };
  const child = spawn(process.execPath, [file, ...(options.args ?? [])], {
    cwd: path.dirname(file),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const want = options.listeners ?? 1;
  const lines: string[] = [];
  const ports: number[] = [];
  let stderr = '';
  let partial = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start within 10 s: ${stderr}`)), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) !== -1) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        lines.push(line);
        const m = /^listening on (.+):(\d+)$/.exec(line);
        if (m === null || ports.length >= want) continue;
        ports.push(Number(m[2]));
        if (ports.length === want) {
          clearTimeout(timer);
          resolve({ ports, port: ports[0], lines, stop: () => stopChild(child) });
        }
      }
    });
    child.once('exit', (code) =>
      fail(new Error(`${script} exited with ${code} before listening: ${stderr}`)),
    );
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Waits up to `ms` for the app to print a line containing `text`; true if it did. */
export async function waitForLine(app: App, text: string, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!app.lines.some((l) => l.includes(text))) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Stops every app, ignoring those that never started. */
export async function stopAll(apps: Array<App | undefined>): Promise<void> {
  await Promise.all(apps.map((a) => (a === undefined ? Promise.resolve() : a.stop())));
}

/** A response read whole. */
export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request on a fresh connection (no keep-alive, so no socket outlives the test). */
export function httpRequest(
  port: number,
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: pathAndQuery,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A request a capture server received. */
export interface Captured {
  method: string;
  /** The request target exactly as sent: origin-form `/x` or absolute-form `http://host:port/x`. */
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** An HTTP server on 127.0.0.1 that records every request and answers with `respond`. */
export interface CaptureServer {
  port: number;
  requests: Captured[];
  close(): Promise<void>;
}

/**
 * Starts a capture server. `respond` returns [status, JSON body], or null to never answer (a hanging
 * upstream; its connections are cut on close).
 */
export function startCapture(
  respond: (req: Captured) => [number, unknown] | null = () => [200, {}],
): Promise<CaptureServer> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const captured = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(captured);
    req.resume();
    const answer = respond(captured);
    if (answer === null) return;
    const body = JSON.stringify(answer[1]);
    res.writeHead(answer[0], {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** A port on 127.0.0.1 with nothing listening (connections are refused). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Env that points a bookinfo app's named backend at 127.0.0.1:port (bookinfo's own override variables). */
export function backendEnv(name: string, port: number): Record<string, string> {
  const key = name.toUpperCase();
  return { [`${key}_HOSTNAME`]: '127.0.0.1', [`${key}_SERVICE_PORT`]: String(port) };
}

/** One value for every trace header the apps must propagate, plus end-user. */
export const TRACE_SAMPLE: Record<string, string> = {
  'x-request-id': 'c0ffee00-1111-2222-3333-444455556666',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=opaque',
  'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
  'x-b3-spanid': 'e457b5a2e4d86bd1',
  'x-b3-parentspanid': '05e3ac9a4f6e3b90',
  'x-b3-sampled': '1',
  'x-b3-flags': '0',
  'x-ot-span-context': 'ot-context',
  b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
  'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1',
  'grpc-trace-bin': 'AABL+S81d7NNpqPOkp0ODkc2AQDwZ6oLqQK3AgE',
};
