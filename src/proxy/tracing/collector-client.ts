// Sends one report to a trace collector: picks a host of the collector's cluster (its CDS cluster, as
// Envoy's collector_cluster) and POSTs the body over a keep-alive HTTP/1.1 connection.
import { Agent, request } from 'node:http';
import type { SnapshotSource } from '../config/snapshot.js';

/** Outcome of one report. */
export const enum SendResult {
  Sent = 0,
  /** The cluster is not (yet) known or has no host: Envoy's reports_skipped_no_cluster. */
  NoCluster = 1,
  /** The collector answered with a non-2xx status. */
  Dropped = 2,
  /** Connection error or timeout. */
  Failed = 3,
}

/** Where a reporter sends its batches. */
export interface CollectorTarget {
  /** CDS cluster name of the collector. */
  readonly cluster: string;
  /** Request path, e.g. `/api/v2/spans`. */
  readonly path: string;
  /** Host header ('' = the picked host's address). */
  readonly hostname: string;
  /** Per-report timeout, ms. */
  readonly timeoutMs: number;
  /** Extra request headers (OTLP http headers). */
  readonly headers: Readonly<Record<string, string>>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 2 });

/** POSTs `body` to one host of the target's cluster; calls `done` exactly once. Never throws. */
export function postToCollector(
  source: SnapshotSource,
  t: CollectorTarget,
  contentType: string,
  body: Buffer,
  done: (r: SendResult) => void,
): void {
  const host = source.current.cluster(t.cluster)?.pick({ tried: null }) ?? null;
  if (host === null) {
    done(SendResult.NoCluster);
    return;
  }
  let finished = false;
  const finish = (r: SendResult): void => {
    if (finished) return;
    finished = true;
    done(r);
  };
  try {
    const req = request(
      {
        agent,
        host: host.address,
        port: host.port,
        method: 'POST',
        path: t.path,
        timeout: t.timeoutMs,
        headers: {
          ...t.headers,
          host: t.hostname || `${host.address}:${host.port}`,
          'content-type': contentType,
          'content-length': String(body.length),
        },
      },
      (res) => {
        res.resume();
        res.on('error', () => finish(SendResult.Failed));
        res.on('end', () =>
          finish(res.statusCode! >= 200 && res.statusCode! < 300 ? SendResult.Sent : SendResult.Dropped),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => finish(SendResult.Failed));
    req.end(body);
  } catch {
    finish(SendResult.Failed);
  }
}
