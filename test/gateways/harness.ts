// Helpers for the gateway/TLS/egress tests: `mizzen server` and `mizzen proxy` as child processes over a
// watched config directory, TLS and HTTP clients (curl where the tasks use curl), free gateway ports.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startServer, waitFor, type ServerProcess } from '../../src/cli/server-test-util.js';
import { canBind } from '../../src/local/ports.js';

/** The `mizzen` command of this checkout. */
export const BIN = fileURLToPath(new URL('../../../bin/mizzen.js', import.meta.url));

export { startServer, waitFor, type ServerProcess };

/** A running `mizzen proxy` child. */
export interface ProxyProcess {
  readonly child: ChildProcess;
  /** Listener name → bound `ip:port`, from the ready file (re-read on each call). */
  listeners(): Record<string, string>;
  adminPort(): number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `mizzen proxy KIND` against `xds` with Istio node metadata; resolves once it is LIVE.
 * `ip` is the instance IP (the HTTP proxy listener of a local-mode sidecar binds ip:15001).
 */
export async function startProxy(opts: {
  kind: 'sidecar' | 'router';
  xds: string;
  ip: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  readyFile: string;
  extraMetadata?: Record<string, unknown>;
}): Promise<ProxyProcess> {
  const id = `${opts.kind}~${opts.ip}~${opts.name}.${opts.namespace}~${opts.namespace}.svc.cluster.local`;
  const metadata = {
    NAMESPACE: opts.namespace,
    LABELS: opts.labels,
    INSTANCE_IPS: opts.ip,
    INTERCEPTION_MODE: 'NONE',
    WORKLOAD_NAME: opts.name,
    ...opts.extraMetadata,
  };
  const child = spawn(
    process.execPath,
    [
      BIN,
      'proxy',
      opts.kind,
      '--xds-address',
      opts.xds,
      '--id',
      id,
      '--metadata',
      JSON.stringify(metadata),
      '--admin-port',
      '0',
      '--ready-file',
      opts.readyFile,
      '--drain-time-s',
      '1',
      '--log-level',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  const exit = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const ready = (): { adminPort: number; listeners: Record<string, string>; state: string } | null => {
    if (!existsSync(opts.readyFile)) return null;
    try {
      return JSON.parse(readFileSync(opts.readyFile, 'utf8')) as never;
    } catch {
      return null;
    }
  };
  try {
    await waitFor('the proxy to be LIVE', () => !exited && ready()?.state === 'LIVE', 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return {
    child,
    listeners: () => ready()?.listeners ?? {},
    adminPort: () => ready()?.adminPort ?? 0,
    output: () => out,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}

/** An offset that puts every gateway port (all below 1024) on a free 127.0.0.1 port. */
export async function freeGatewayOffset(ports: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+), so outgoing connections cannot take the port meanwhile.
    const offset = 15_000 + Math.floor(Math.random() * 16_000);
    let ok = true;
    for (const p of ports) if (!(await canBind('127.0.0.1', p + offset))) ok = false;
    if (ok) return offset;
  }
  throw new Error('no free gateway port offset found');
}

/** What a TLS client saw: the peer certificate's CN and serial, the negotiated protocol and the bytes read. */
export interface TlsResult {
  readonly ok: boolean;
  readonly error: string;
  readonly cn: string;
  readonly serial: string;
  readonly protocol: string;
  /** Negotiated cipher suite (OpenSSL name). */
  readonly cipher: string;
  readonly data: string;
}

/** Opens TLS to 127.0.0.1:port (or opts.host) with SNI `servername`, optionally sends `send`, reads until close. */
export function tlsProbe(
  port: number,
  servername: string,
  opts: {
    ca?: string;
    cert?: string;
    key?: string;
    send?: string;
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    /** Address to connect to (default 127.0.0.1). */
    host?: string;
    /** OpenSSL cipher list the client offers. */
    ciphers?: string;
  } = {},
): Promise<TlsResult> {
  return new Promise((resolve) => {
    let data = '';
    let peer: PeerCertificate | null = null;
    let protocol = '';
    let cipher = '';
    let done = false;
    const finish = (ok: boolean, error: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        ok,
        error,
        cn: String(peer?.subject?.CN ?? ''),
        serial: String(peer?.serialNumber ?? ''),
        protocol,
        cipher,
        data,
      });
    };
    const s = tlsConnect({
      host: opts.host ?? '127.0.0.1',
      port,
      servername,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      maxVersion: opts.maxVersion,
      ciphers: opts.ciphers,
      rejectUnauthorized: opts.ca !== undefined,
      ALPNProtocols: ['http/1.1'],
    });
    s.on('secureConnect', () => {
      peer = s.getPeerCertificate();
      protocol = s.getProtocol() ?? '';
      cipher = s.getCipher()?.name ?? '';
      if (opts.send !== undefined) s.write(opts.send);
      else s.end();
    });
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => finish(false, e.code ?? e.message));
    s.on('close', () => finish(peer !== null, peer ? '' : 'closed before the handshake finished'));
    const timer = setTimeout(() => {
      s.destroy();
      finish(false, 'timeout');
    }, 15_000);
  });
}

/** What curl printed: exit code, the `-w` output and the body. */
export interface CurlResult {
  readonly code: number;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  readonly stderr: string;
}

/** Runs curl with `args` plus `-s -S -D - -w`; parses the status line. Generous timeout (busy machines). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-s', '-S', '--max-time', '20', '-D', '-', '-o', '-', ...args],
      { timeout: 30_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) || 1 : 0;
        const sep = stdout.indexOf('\r\n\r\n');
        const headers = sep >= 0 ? stdout.slice(0, sep) : stdout;
        const m = /^HTTP\/[\d.]+ (\d{3})/.exec(headers);
        resolve({
          code,
          status: m ? Number(m[1]) : 0,
          headers,
          body: sep >= 0 ? stdout.slice(sep + 4) : '',
          stderr,
        });
      },
    );
  });
}

/** A plain HTTP/1.1 request through an HTTP proxy (absolute-form target), as apps with HTTP_PROXY send. */
export function viaProxy(
  proxy: string,
  url: string,
  timeoutMs = 20_000,
): Promise<{ status: number; body: string; ms: number; headers: http.IncomingHttpHeaders }> {
  const [host, port] = proxy.split(':');
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host,
        port: Number(port),
        path: url,
        headers: { host: new URL(url).host },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0, headers: res.headers }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Path of a file in a config dir. */
export function configFile(dir: string, name: string): string {
  return join(dir, name);
}

/** Asserts with the proxy's output attached. */
export function assertWith(p: ProxyProcess, cond: boolean, msg: string): void {
  assert.ok(cond, `${msg}\n--- proxy output ---\n${p.output()}`);
}
