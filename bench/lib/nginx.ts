// nginx as the 1 KiB file backend or as a reverse proxy with upstream keep-alive, run as the current user from a temp dir.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type Running } from './proc.js';

/** Where and how nginx runs. */
export interface NginxOptions {
  /** Its own folder (config, pid, logs, temp files, the served file). */
  dir: string;
  /** HTTP/1.1 port on 127.0.0.1. */
  port: number;
  /** Cleartext HTTP/2 (prior knowledge) port on 127.0.0.1. */
  h2Port: number;
  /** worker_processes. */
  workers: number;
  /** Proxy to this port on 127.0.0.1; absent = serve the 1 KiB file. */
  upstreamPort?: number;
  /** CPUs to run on (taskset -c), or all. */
  cpus?: string;
}

/** The nginx.conf for these options. */
export function nginxConfig(o: NginxOptions): string {
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(o.dir, 'tmp', t)};`)
    .join('\n');
  const location = o.upstreamPort
    ? `proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";`
    : `root ${join(o.dir, 'www')};`;
  const upstream = o.upstreamPort
    ? `  upstream backend {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
  }\n`
    : '';
  return `${user}worker_processes ${o.workers};
daemon off;
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  default_type text/plain;
${temp}
${upstream}  server {
    listen 127.0.0.1:${o.port} reuseport backlog=4096;
    listen 127.0.0.1:${o.h2Port} http2;
    location / {
      ${location}
    }
  }
}
`;
}

/** Writes the config (and the 1 KiB file as /1k) and starts nginx in the foreground. */
export async function startNginx(o: NginxOptions): Promise<Running> {
  mkdirSync(join(o.dir, 'www'), { recursive: true });
  mkdirSync(join(o.dir, 'tmp'), { recursive: true });
  writeFileSync(join(o.dir, 'www', '1k'), Buffer.alloc(1024, 'x'));
  writeFileSync(join(o.dir, 'nginx.conf'), nginxConfig(o));
  return startProcess(
    'nginx',
    ['-p', o.dir, '-e', join(o.dir, 'error.log'), '-c', join(o.dir, 'nginx.conf')],
    {
      waitForPort: o.port,
      cpus: o.cpus,
    },
  );
}
