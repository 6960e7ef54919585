// One side request from a filter to an upstream cluster (Envoy's AsyncClient): a host from the
// cluster's load balancer, a slot in its pool (same circuit breakers and TLS as routed traffic), the
// whole response buffered up to a limit, a deadline. Resolves with the reply or an error; never throws.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ClientHttp2Stream, IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { Cluster } from '../../../upstream/cluster.js';
import {
  Acquire,
  type ConnPool,
  type H1Exchange,
  type H1Stream,
  type PoolWaiter,
} from '../../../upstream/pool/conn-pool.js';
import type { HeaderMap } from '../../route/header-mutation.js';

/** What to send. */
export interface CallRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** Lower-case names, no pseudo headers. */
  readonly headers: HeaderMap;
  readonly body: Buffer | null;
  /** Deadline for the whole exchange, ms. */
  readonly timeoutMs: number;
  /** Response bodies above this many bytes fail the call. */
  readonly maxResponseBytes: number;
  /** HTTP/2 is required (gRPC): an HTTP/1.1 cluster fails the call. */
  readonly requireH2: boolean;
}

/** A complete reply. */
export interface CallResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** HTTP/2 trailers (gRPC status), else empty. */
  readonly trailers: IncomingHttpHeaders;
}

/** Why a call produced no reply. */
export class CallError extends Error {}

/** One in-flight call; settles once. */
class Call implements PoolWaiter, H1Exchange {
  private timer: NodeJS.Timeout | null = null;
  private acquired = false;
  private settled = false;
  private h1: H1Stream | null = null;
  private h1Status = 0;
  private h1Headers: IncomingHttpHeaders = {};
  private h2: ClientHttp2Stream | null = null;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly pool: ConnPool,
    private readonly r: CallRequest,
    private readonly resolve: (v: CallResponse | CallError) => void,
  ) {}

  start(): void {
    this.timer = setTimeout(() => this.fail(`timed out after ${this.r.timeoutMs} ms`), this.r.timeoutMs);
    this.cluster.stats.upstream_rq_total.inc();
    const a = this.pool.acquire(this);
    if (a === Acquire.Ready) this.onPoolReady();
    else if (a === Acquire.Overflow) this.fail('upstream overflow (circuit breaker)');
  }

  onPoolReady(): void {
    this.acquired = true;
    if (this.settled) {
      this.release();
      return;
    }
    try {
      if (this.pool.protocol === 'http1') this.sendH1();
      else this.sendH2();
    } catch (e) {
      this.fail(`send failed: ${(e as Error).message}`);
    }
  }

  private sendH1(): void {
    const r = this.r;
    const headers: HeaderMap = {
      ...r.headers,
      host: r.authority,
      'content-length': String(r.body?.length ?? 0),
    };
    this.h1 = this.pool.dispatchH1(this, {
      method: r.method,
      path: r.path,
      headers,
      body: r.body !== null ? Readable.from([r.body], { objectMode: false }) : null,
      upgrade: null,
    });
  }

  onH1Head(status: number, raw: string[]): void {
    this.h1Status = status;
    const h: IncomingHttpHeaders = {};
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i].toLowerCase();
      const v = raw[i + 1];
      const cur = h[k];
      if (cur === undefined) h[k] = v;
      else if (k !== 'set-cookie') h[k] = `${String(cur)}, ${v}`;
    }
    this.h1Headers = h;
  }

  onH1Data(chunk: Buffer): void {
    this.onData(chunk);
  }

  onH1Complete(): void {
    this.done(this.h1Status, this.h1Headers, {});
  }

  onH1Error(err: NodeJS.ErrnoException): void {
    this.fail(err.message);
  }

  onH1Upgrade(_status: number, _raw: string[], socket: Socket): void {
    socket.destroy();
    this.fail('unexpected protocol upgrade');
  }

  private sendH2(): void {
    const r = this.r;
    const { stream } = this.pool.requestH2(
      { ...r.headers, ':method': r.method, ':path': r.path, ':authority': r.authority, ':scheme': 'http' },
      r.body === null,
    );
    this.h2 = stream;
    let status = 0;
    let headers: H2Headers = {};
    let trailers: H2Headers = {};
    stream.on('error', (e: Error) => this.fail(e.message));
    stream.on('response', (h) => {
      status = Number(h[':status'] ?? 0);
      headers = h;
    });
    stream.on('trailers', (t: H2Headers) => (trailers = t));
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('end', () => this.done(status, headers, trailers));
    stream.on('close', () => this.fail(`stream closed (code ${stream.rstCode})`));
    if (r.body !== null) stream.end(r.body);
  }

  private onData(d: Buffer): void {
    this.size += d.length;
    if (this.size > this.r.maxResponseBytes) {
      this.fail(`response larger than ${this.r.maxResponseBytes} bytes`);
      return;
    }
    this.chunks.push(d);
  }

  private done(status: number, headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders): void {
    if (this.settled) return;
    if (this.r.requireH2 && this.pool.protocol !== 'http2') {
      this.fail('the cluster does not speak HTTP/2');
      return;
    }
    this.settle({ status, headers, body: Buffer.concat(this.chunks), trailers });
    this.cluster.stats.upstream_rq_completed.inc();
  }

  private fail(reason: string): void {
    if (this.settled) return;
    this.settle(new CallError(reason));
    this.h1?.abort();
    if (this.h2 && !this.h2.destroyed) this.h2.close();
    if (!this.acquired) this.pool.cancel(this);
  }

  private settle(v: CallResponse | CallError): void {
    this.settled = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.release();
    this.resolve(v);
  }

  private release(): void {
    if (!this.acquired) return;
    this.acquired = false;
    this.pool.release();
  }
}

/** Sends `r` to one host of `cluster`; resolves with the reply or a CallError (never rejects). */
export function callCluster(cluster: Cluster | undefined, r: CallRequest): Promise<CallResponse | CallError> {
  if (cluster === undefined) return Promise.resolve(new CallError('cluster not found'));
  const host = cluster.pick({ tried: null });
  if (host === null) {
    cluster.stats.upstream_cx_none_healthy.inc();
    return Promise.resolve(new CallError('no healthy upstream'));
  }
  const pool = cluster.poolFor(host, r.requireH2);
  if (r.requireH2 && pool.protocol !== 'http2')
    return Promise.resolve(new CallError(`cluster ${cluster.name} does not speak HTTP/2 (gRPC needs it)`));
  return new Promise((resolve) => new Call(cluster, pool, r, resolve).start());
}
