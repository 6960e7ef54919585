// Test helpers for the proxy: real backends on 127.0.0.1:0, canonical resource builders, an HTTP client.
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { BIN } from '../cli/test-util.js';
import { AdsServer } from '../xds/ads-server.js';
import { bootstrapFrom } from './bootstrap/bootstrap.js';
import { Proxy, type ProxyOptions } from './proxy.js';

import { waitFor } from '../api/test-util.js';

export { waitFor };

/** A request a backend received. */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A running test backend. */
export interface Backend {
  name: string;
  port: number;
  seen: Seen[];
  server: Server;
  close(): Promise<void>;
}

/** Handler returning nothing writes the default JSON echo `{ name, url, headers }`. */
export type BackendHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
) => void | Promise<void>;

/** Starts an HTTP/1.1 backend on 127.0.0.1:0 that records requests and echoes them (or runs `handler`). */
export async function startBackend(name: string, handler?: BackendHandler): Promise<Backend> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler) {
        void Promise.resolve(handler(req, res, body)).catch(() => res.destroy());
        return;
      }
      const out = JSON.stringify({ name, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    seen,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A canonical STATIC cluster with endpoints on 127.0.0.1. */
export function staticCluster(name: string, ports: number[], extra: Record<string, unknown> = {}): any {
  return {
    name,
    type: 'STATIC',
    connectTimeout: { seconds: 1 },
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: ports.map((p) => ({
            endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } },
          })),
        },
      ],
    },
    ...extra,
  };
}

/** The canonical router filter entry. */
export const ROUTER = {
  name: 'envoy.filters.http.router',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};
/** The canonical fault filter entry (empty config; per-route config does the work). */
export const FAULT = {
  name: 'envoy.filters.http.fault',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' },
};
/** The canonical CORS filter entry. */
export const CORS = {
  name: 'envoy.filters.http.cors',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' },
};

/** A canonical HTTP connection manager typed config. */
export function hcm(routeConfigOrRds: any, extra: Record<string, unknown> = {}): any {
  const route =
    typeof routeConfigOrRds === 'string'
      ? { rds: { configSource: { ads: {} }, routeConfigName: routeConfigOrRds } }
      : { routeConfig: routeConfigOrRds };
  return {
    '@type':
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    statPrefix: 'test_http',
    ...route,
    httpFilters: [FAULT, CORS, ROUTER],
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    ...extra,
  };
}

/** A canonical listener on 127.0.0.1:0 whose only filter is an HCM with `hcmConfig`. */
export function httpListener(name: string, hcmConfig: any, port = 0): any {
  return {
    name,
    address: { socketAddress: { address: '127.0.0.1', portValue: port } },
    filterChains: [
      { filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: hcmConfig }] },
    ],
  };
}

/** A route configuration with one virtual host for every domain. */
export function routeConfig(name: string, routes: any[], vhostExtra: Record<string, unknown> = {}): any {
  return { name, virtualHosts: [{ name: 'all', domains: ['*'], routes, ...vhostExtra }] };
}

/** Starts an in-process proxy from canonical static resources, admin on a free port. */
export async function startProxy(
  listeners: any[],
  clusters: any[],
  opts: Partial<ProxyOptions> = {},
): Promise<Proxy> {
  const bootstrap = bootstrapFrom({ staticResources: { listeners, clusters } });
  return Proxy.start({ bootstrap, adminPort: 0, drainTimeMs: 2000, logLevel: 'warning', ...opts });
}

/** A finished HTTP response. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one HTTP/1.1 request (fresh connection) and reads the whole response. */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads an admin endpoint as text. */
export async function admin(p: Proxy, path: string, method = 'GET'): Promise<Reply> {
  return get(p.adminPort, path, {}, method);
}

/** One counter or gauge of the proxy's admin /stats (e.g. `cluster.pair.upstream_rq_retry`); fails when absent. */
export async function stat(p: Proxy, name: string): Promise<number> {
  const body = (await admin(p, `/stats?filter=${encodeURIComponent(name)}`)).body;
  const m = new RegExp(`^${name.replace(/[.|[\]]/g, '\\$&')}: (\\d+)$`, 'm').exec(body);
  if (!m) throw new Error(`no stat ${name} in /stats`);
  return Number(m[1]);
}

/**
 * A file access log for a test HCM (`hcm(routes, { accessLog: [log.entry] })`): each request logs
 * `PATH STATUS FLAGS UPSTREAM_HOST`; `line(path)` waits for the line of a request.
 */
export function testAccessLog(file: string): {
  entry: Record<string, unknown>;
  line(path: string): Promise<{ status: number; flags: string; upstreamHost: string }>;
} {
  return {
    entry: {
      name: 'envoy.access_loggers.file',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
        path: file,
        logFormat: {
          textFormatSource: {
            inlineString: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST%\n',
          },
        },
      },
    },
    async line(path) {
      const text = await waitFor(`the access log line of ${path}`, () => {
        const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
        return lines.filter((l) => l.startsWith(`${path} `)).at(-1);
      });
      const [, status, flags, upstreamHost] = text.split(' ');
      return { status: Number(status), flags, upstreamHost };
    },
  };
}

/** What a proxy wrote to its ready file (`--ready-file`). */
export interface ReadyPorts {
  adminPort: number;
  /** Listener name → `host:port`. */
  listeners: Record<string, string>;
}

/** A `mizzen proxy` child process that has written its ready file. */
export interface ProxyChild {
  child: ChildProcess;
  ports: ReadyPorts;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything it printed on stdout so far. */
  stdout(): string;
}

/**
 * Spawns `mizzen proxy ARGS --ready-file FILE` and waits for the ready file. A child that exits first or
 * misses the deadline is killed, and the error carries its stderr.
 */
export async function spawnProxy(args: string[], readyFile: string, timeoutMs = 60_000): Promise<ProxyChild> {
  rmSync(readyFile, { force: true });
  const child = spawn(process.execPath, [BIN, 'proxy', ...args, '--ready-file', readyFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(readyFile)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`proxy did not become ready (exit ${child.exitCode}): ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const ports = JSON.parse(readFileSync(readyFile, 'utf8')) as ReadyPorts;
  return { child, ports, exited, stdout: () => out };
}

/** The port of a listener in a ready file. */
export function listenerPort(ports: ReadyPorts, name: string): number {
  return Number(ports.listeners[name].split(':')[1]);
}

/**
 * An ADS server on 127.0.0.1:0 that serves whatever `state` holds per type URL (names filtered), with a
 * short debounce; change `state` and call `push()`.
 */
export async function startStateAdsServer(
  state: Record<string, any[]>,
): Promise<{ server: AdsServer; port: number }> {
  const server = new AdsServer({
    address: '127.0.0.1:0',
    debounceMs: 5,
    maxDebounceMs: 50,
    log: () => {},
    generate: (_p, typeUrl, names) => {
      const all = state[typeUrl] ?? [];
      return names.length === 0 ? all : all.filter((r) => names.includes(r.name ?? r.clusterName));
    },
  });
  return { server, port: await server.listen() };
}
