// A bound listener: accepts connections, picks the filter chain from the config current at accept
// time, sniffs h2c, and hands the socket to the chain's HCM or TCP proxy. Updates swap the config;
// chains that disappeared drain.
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { ConnectionInfo } from '../http/active-request.js';
import type { Counter, Gauge, StatsStore } from '../stats/stats-store.js';
import type { FilterChain } from './filter-chain.js';
import { inspectSocket, type Inspection } from './inspector.js';
import { connectionFacts } from './filter-chain-match.js';
import type { ListenerConfig } from './listener-config.js';
import { detectHttp2 } from './protocol-detect.js';
import { resolveOriginalDst, type SocketAddr } from './original-dst.js';
import { logger } from '../log.js';
import { NO_LIMITS, type ConnectionLimits } from './connection-limit.js';
import { alpnCallbackFor } from '../tls/alpn-select.js';

const log = logger('listener');

/** How long protocol sniffing waits for the first bytes before assuming HTTP/1.1 (ms). */
const DETECT_TIMEOUT_MS = 10_000;

/** One listener's socket and state. */
export class ActiveListener {
  private server: Server | null = null;
  /** The port actually bound (differs from config for port 0). */
  boundPort = 0;
  private stopped = false;
  private readonly conns = new Set<Socket>();
  private readonly cxTotal: Counter;
  private readonly cxActive: Gauge;
  private readonly cxDestroy: Counter;
  private readonly noChain: Counter;
  private readonly globalOverflow: Counter;
  private readonly overflow: Counter;
  private readonly onConnection = (s: Socket): void => this.accept(s);

  constructor(
    public config: ListenerConfig,
    store: StatsStore,
    private readonly limits: ConnectionLimits = NO_LIMITS,
    /** Finds the listener of an original destination (use_original_dst hand-off); null: none. */
    private readonly handoff: ((dst: SocketAddr) => ActiveListener | null) | null = null,
  ) {
    const statName = config.config.statPrefix
      ? String(config.config.statPrefix)
      : `${config.address}_${config.port}`;
    const s = store.scope(`listener.${statName}.`, 'listener.', [['envoy_listener_address', statName]]);
    this.cxTotal = s.counter('downstream_cx_total');
    this.cxActive = s.gauge('downstream_cx_active');
    this.cxDestroy = s.counter('downstream_cx_destroy');
    this.noChain = s.counter('no_filter_chain_match');
    this.globalOverflow = s.counter('downstream_global_cx_overflow');
    this.overflow = s.counter('downstream_cx_overflow');
  }

  /** Binds the socket (no-op for bind_to_port false). Rejects with the bind error. */
  async bind(): Promise<void> {
    if (!this.config.bind) return;
    const server = createServer({ noDelay: true, pauseOnConnect: false });
    server.on('connection', this.onConnection);
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      server.once('error', onErr);
      server.listen({ host: this.config.address, port: this.config.port, backlog: 1024 }, () => {
        server.removeListener('error', onErr);
        resolve();
      });
    });
    server.on('error', (e) => log.error(`listener ${this.config.name}: ${e.message}`));
    this.server = server;
    const a = server.address();
    this.boundPort = typeof a === 'object' && a ? a.port : this.config.port;
  }

  /** Address as `ip:port` with the real bound port. */
  get boundAddress(): string {
    return `${this.config.address}:${this.boundPort || this.config.port}`;
  }

  /** Swaps in a new config for the same address; returns chains that are no longer used (to drain). */
  update(next: ListenerConfig): FilterChain[] {
    const keep = new Set(next.allChains());
    const gone = this.config.allChains().filter((c) => !keep.has(c));
    this.config = next;
    return gone;
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    // Envoy closes a connection over a limit at accept, before any byte is read.
    const limits = this.limits;
    if (limits.active >= limits.globalMax) {
      this.globalOverflow.inc();
      socket.destroy();
      return;
    }
    if (this.conns.size >= limits.listenerMax(this.config.name)) {
      this.overflow.inc();
      socket.destroy();
      return;
    }
    limits.active++;
    this.cxTotal.inc();
    this.cxActive.inc();
    this.conns.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => {
      limits.active--;
      this.conns.delete(socket);
      this.cxActive.dec();
      this.cxDestroy.inc();
    });
    const cfg = this.config;
    if (cfg.needsOriginalDst) resolveOriginalDst(socket, (dst) => this.afterOriginalDst(socket, cfg, dst));
    else this.inspectThenDispatch(socket, cfg, null);
  }

  /** Envoy's use_original_dst: the listener of the original destination takes the connection, if any. */
  private afterOriginalDst(socket: Socket, cfg: ListenerConfig, dst: SocketAddr | null): void {
    if (socket.destroyed) return;
    if (dst !== null && cfg.useOriginalDst && this.handoff !== null) {
      const target = this.handoff(dst);
      if (target !== null && target !== this) {
        target.takeOver(socket, dst);
        return;
      }
    }
    this.inspectThenDispatch(socket, cfg, dst);
  }

  /** A connection handed over by a use_original_dst listener, with its original destination. */
  takeOver(socket: Socket, dst: SocketAddr): void {
    this.inspectThenDispatch(socket, this.config, dst);
  }

  private inspectThenDispatch(socket: Socket, cfg: ListenerConfig, dst: SocketAddr | null): void {
    if (cfg.needsInspection)
      inspectSocket(socket, DETECT_TIMEOUT_MS, (insp) => this.dispatch(socket, cfg, insp, dst));
    else this.dispatch(socket, cfg, null, dst);
  }

  /**
   * Picks the filter chain and hands the connection (TLS-terminated if the chain says so) to it.
   * `dst`: the original destination of a redirected connection, which stands for the local address.
   */
  private dispatch(
    socket: Socket,
    cfg: ListenerConfig,
    insp: Inspection | null,
    dst: SocketAddr | null,
  ): void {
    if (socket.destroyed) return;
    const facts = connectionFacts(socket, insp);
    const chain = cfg.select(
      dst === null ? facts : { ...facts, destinationIp: dst.ip, destinationPort: dst.port },
    );
    if (chain === null) {
      this.noChain.inc();
      socket.destroy();
      return;
    }
    const info: ConnectionInfo = {
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      remoteIp: socket.remoteAddress ?? '',
      localAddress: dst === null ? `${socket.localAddress}:${socket.localPort}` : `${dst.ip}:${dst.port}`,
      tls: false,
      sni: insp?.sni ?? '',
      peerPrincipal: '',
    };
    if (chain.tls !== null && insp?.tls) {
      this.terminateTls(socket, chain, info);
      return;
    }
    if (chain.tcp !== null) {
      chain.tcp.handleConnection(socket, info);
      return;
    }
    const hcm = chain.hcm!;
    if (chain.codec === 'HTTP2') hcm.handleConnection(socket, info, true);
    else if (chain.codec === 'HTTP1') hcm.handleConnection(socket, info, false);
    else if (insp !== null && !insp.tls) hcm.handleConnection(socket, info, insp.protocols.includes('h2c'));
    else
      detectHttp2(socket, DETECT_TIMEOUT_MS, (h2) =>
        socket.destroyed ? undefined : hcm.handleConnection(socket, info, h2),
      );
  }

  private terminateTls(socket: Socket, chain: FilterChain, info: ConnectionInfo): void {
    const tls = chain.tls!;
    const r = tls.resolve();
    if (r instanceof Error) {
      // The certificate has not arrived over SDS yet: refuse as Envoy does (no usable context).
      log.debug(`listener ${this.config.name}: ${r.message}`);
      socket.destroy();
      return;
    }
    const t = new TLSSocket(socket, {
      isServer: true,
      secureContext: r.context,
      // Envoy's selection (server preference; no common value does not fail an in-mesh client).
      ALPNCallback: tls.alpn.length > 0 ? alpnCallbackFor(tls.alpn) : undefined,
      requestCert: tls.requireClientCert || r.verifyChain,
      rejectUnauthorized: false,
    });
    t.on('error', () => t.destroy());
    const timer = setTimeout(() => t.destroy(), chain.handshakeTimeoutMs ?? DETECT_TIMEOUT_MS);
    t.once('close', () => clearTimeout(timer));
    t.once('secure', () => {
      clearTimeout(timer);
      const refused = tls.checkClient(t, r);
      if (refused !== null) {
        log.debug(`listener ${this.config.name}: TLS handshake refused: ${refused}`);
        t.destroy();
        return;
      }
      // What tls.Server does for its sockets; node:http2 waits for it before reading.
      (t as unknown as { secureConnecting: boolean }).secureConnecting = false;
      const sni = typeof t.servername === 'string' ? t.servername : info.sni;
      const secured: ConnectionInfo = { ...info, tls: true, sni, peerPrincipal: tls.peerPrincipal(t, r) };
      if (chain.tcp !== null) chain.tcp.handleConnection(t, secured);
      else {
        const hcm = chain.hcm!;
        const alpn = t.alpnProtocol;
        if (chain.codec !== 'AUTO' || alpn === 'h2' || alpn === 'http/1.1')
          hcm.handleConnection(
            t,
            secured,
            chain.codec === 'HTTP2' || (chain.codec !== 'HTTP1' && alpn === 'h2'),
          );
        // Istio's in-mesh ALPN ("istio-peer-exchange", "istio") does not say h2 or HTTP/1.1: sniff, as Envoy's AUTO codec does.
        else
          detectHttp2(t, DETECT_TIMEOUT_MS, (h2) =>
            t.destroyed ? undefined : hcm.handleConnection(t, secured, h2),
          );
      }
    });
  }

  /** Stops accepting; existing connections drain, then are closed after `drainMs`. */
  stop(drainMs: number): Promise<void> {
    this.stopped = true;
    const server = this.server;
    this.server = null;
    const chains = this.config.allChains();
    for (const c of chains) c.drain();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const c of chains) c.close();
        for (const s of this.conns) s.destroy();
      }, drainMs);
      timer.unref();
      if (server) server.close(() => resolve());
      else resolve();
    });
  }

  /** Closes the socket and every connection now. */
  close(): void {
    this.stopped = true;
    this.server?.close();
    this.server = null;
    for (const c of this.config.allChains()) c.close();
    for (const s of this.conns) s.destroy();
  }
}
