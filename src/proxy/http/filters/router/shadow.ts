// Request mirroring (request_mirror_policies): a fire-and-forget copy to another cluster whose Host
// gets `-shadow`; its response is drained and dropped and it never delays the main request.
import type { ClientHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Cluster } from '../../../upstream/cluster.js';
import type { Host } from '../../../upstream/host.js';
import {
  Acquire,
  type ConnPool,
  type H1Exchange,
  type H1Stream,
  type PoolWaiter,
} from '../../../upstream/pool/conn-pool.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { h2RequestHeaders } from './h2-request-headers.js';
import type { RequestBody } from './request-body.js';

/** Envoy's shadow host: `-shadow` goes before the port (`reviews-shadow:9080`). */
export function shadowHost(authority: string): string {
  const i = authority.lastIndexOf(':');
  if (i > 0 && !authority.endsWith(']') && /^\d+$/.test(authority.slice(i + 1))) {
    return `${authority.slice(0, i)}-shadow${authority.slice(i)}`;
  }
  return `${authority}-shadow`;
}

/** One mirrored request. */
export class ShadowRequest implements PoolWaiter, H1Exchange {
  private h1: H1Stream | null = null;
  private gotHead = false;
  private h2: ClientHttp2Stream | null = null;
  private timer: NodeJS.Timeout | null = null;
  private done = false;
  private acquired = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly host: Host,
    private readonly pool: ConnPool,
    private readonly method: string,
    private readonly path: string,
    private readonly authority: string,
    private readonly scheme: string,
    private readonly headers: HeaderMap,
    private readonly body: RequestBody | null,
    private readonly timeoutMs: number,
  ) {}

  /** Starts the mirror; errors and overflow just drop it. */
  start(): void {
    this.cluster.stats.upstream_rq_total.inc();
    this.cluster.stats.upstream_rq_active.inc();
    this.host.rqTotal++;
    this.host.rqActive++;
    const r = this.pool.acquire(this);
    if (r === Acquire.Ready) {
      this.acquired = true;
      this.send();
    } else if (r === Acquire.Overflow) this.finish();
  }

  onPoolReady(): void {
    this.acquired = true;
    this.send();
  }

  private send(): void {
    if (this.timeoutMs > 0) this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    try {
      if (this.pool.protocol === 'http1') {
        let stream: PassThrough | null = null;
        if (this.body !== null) {
          stream = new PassThrough();
          this.body.addShadow(stream);
        }
        const s = this.pool.dispatchH1(this, {
          method: this.method,
          path: this.path,
          headers: this.headers,
          body: stream,
          upgrade: null,
        });
        if (!this.done) this.h1 = s;
      } else {
        const h = h2RequestHeaders(this.method, this.path, this.authority, this.scheme, this.headers);
        const { stream } = this.pool.requestH2(h, this.body === null);
        this.h2 = stream;
        stream.on('response', this.onH2Response);
        stream.on('error', this.finishError);
        stream.on('close', this.finish);
        if (this.body !== null) this.body.addShadow(stream);
      }
    } catch {
      this.finish();
    }
  }

  // ---- H1Exchange: the response is read and dropped ----

  onH1Head(status: number): void {
    this.gotHead = true;
    this.record(status);
  }

  onH1Data(): void {}

  onH1Complete(): void {
    this.h1 = null;
    this.finish();
  }

  onH1Error(): void {
    this.h1 = null;
    if (this.gotHead) this.finish();
    else this.finishError();
  }

  onH1Upgrade(_status: number, _raw: string[], socket: Socket): void {
    this.h1 = null;
    socket.destroy();
    this.finish();
  }

  private readonly onH2Response = (headers: Record<string, unknown>): void => {
    this.record(Number(headers[':status'] ?? 0));
    this.h2!.resume();
  };

  private record(status: number): void {
    this.cluster.stats.codes.record(status);
    if (status >= 500) this.host.rqError++;
    else this.host.rqSuccess++;
  }

  private readonly onTimeout = (): void => {
    this.timer = null;
    this.cluster.stats.upstream_rq_timeout.inc();
    const s = this.h1;
    this.h1 = null;
    s?.abort();
    this.h2?.close();
    this.finish();
  };

  private readonly finishError = (): void => {
    this.host.rqError++;
    this.finish();
  };

  private readonly finish = (): void => {
    if (this.done) return;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.acquired) this.pool.release();
    this.host.rqActive--;
    this.cluster.stats.upstream_rq_active.dec();
    this.cluster.stats.upstream_rq_completed.inc();
  };
}
