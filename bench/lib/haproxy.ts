// HAProxy as a reverse proxy (HTTP/1.1 and h2c front, keep-alive reuse to the backend), run from a temp dir.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type Running } from './proc.js';

/** Where and how HAProxy runs. */
export interface HaproxyOptions {
  /** Its own folder. */
  dir: string;
  /** HTTP/1.1 port on 127.0.0.1. */
  port: number;
  /** Cleartext HTTP/2 (prior knowledge) port on 127.0.0.1. */
  h2Port: number;
  /** nbthread. */
  threads: number;
  /** Backend port on 127.0.0.1. */
  upstreamPort: number;
  /** CPUs to run on (taskset -c), or all. */
  cpus?: string;
}

/** The haproxy.cfg for these options. */
export function haproxyConfig(o: HaproxyOptions): string {
  return `global
  nbthread ${o.threads}
  maxconn 8000
  pidfile ${join(o.dir, 'haproxy.pid')}

defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  option http-keep-alive
  http-reuse always

frontend bench
  bind 127.0.0.1:${o.port}
  bind 127.0.0.1:${o.h2Port} proto h2
  default_backend backend

backend backend
  server b1 127.0.0.1:${o.upstreamPort} maxconn 1000
`;
}

/** Writes the config and starts HAProxy in the foreground. */
export async function startHaproxy(o: HaproxyOptions): Promise<Running> {
  writeFileSync(join(o.dir, 'haproxy.cfg'), haproxyConfig(o));
  return startProcess('haproxy', ['-db', '-f', join(o.dir, 'haproxy.cfg')], {
    waitForPort: o.port,
    cpus: o.cpus,
  });
}
