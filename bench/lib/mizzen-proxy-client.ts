// A real Mizzen proxy as a client of the control-plane benchmark: the proxy's own ADS client, config
// manager, route, cluster and listener compilers, several per worker process. Each binds its listeners
// and admin on its node's own loopback address (the nodes are INTERCEPTION_MODE NONE with distinct
// INSTANCE_IPS), so many share one process. It reports the same events as the simulated clients.
import { Proxy } from '../../src/proxy/proxy.js';
import { TYPE } from '../../src/proxy/config/config-manager.js';
import { nowMs, type SimNode, type SimSink, type Watch } from './ads-sim.js';

/** One Mizzen proxy connected to the server under test. */
export class MizzenProxyClient {
  private proxy: Proxy | null = null;
  private readonly watchesDone = new Set<number>();
  private isSynced = false;
  private closed = false;

  constructor(
    private readonly index: number,
    private readonly server: string,
    private readonly node: SimNode,
    private readonly sink: SimSink,
    private readonly watches: () => Watch[],
  ) {}

  /** Starts the proxy; its ADS client connects at once and reconnects by itself as a sidecar's does. */
  start(): void {
    const ip = String(this.node.metadata.INSTANCE_IPS ?? '127.0.0.1');
    Proxy.start({
      xdsAddress: this.server,
      nodeId: this.node.id,
      metadata: this.node.metadata,
      adminAddress: ip,
      adminPort: 0,
      drainTimeMs: 0,
      // Warnings of a hundred proxies (each stream closing at the end) would bury the bench's own lines.
      logLevel: 'error',
    }).then(
      (p) => {
        if (this.closed) {
          void p.close();
          return;
        }
        this.proxy = p;
        this.observe(p);
      },
      (e: unknown) => this.sink.failed(this.index, `proxy did not start: ${String(e)}`),
    );
  }

  /** Closes the proxy (its ADS stream, listeners and admin). */
  close(): void {
    this.closed = true;
    void this.proxy?.close();
  }

  /**
   * Wraps the config manager's apply, which the ADS client calls with every accepted update (the whole
   * set of its type, decoded and canonical): after it, checks the watches of that type and whether the
   * proxy has everything its listeners and clusters refer to. Runs before any response can arrive:
   * `Proxy.start` resolves right after opening the stream, without awaiting it.
   */
  private observe(p: Proxy): void {
    const config = p.config;
    const apply = config.apply.bind(config);
    config.apply = async (typeUrl, resources, version, source, incremental) => {
      const err = await apply(typeUrl, resources, version, source, incremental);
      const at = nowMs();
      const watched = typeUrl === TYPE.VIRTUAL_HOST ? TYPE.ROUTE : typeUrl; // VHDS carries route changes
      for (const w of this.watches()) {
        if (w.typeUrl !== watched || this.watchesDone.has(w.id)) continue;
        // The marker is a host (in a resource's name) or a value inside a route: names first, then the text.
        const hit =
          resources.some((r) => String((r as { name?: unknown }).name ?? '').includes(w.marker)) ||
          resources.some((r) => JSON.stringify(r).includes(w.marker));
        if (hit) {
          this.watchesDone.add(w.id);
          this.sink.arrived(w.id, this.index, at);
        }
      }
      if (!this.isSynced && this.hasAll(p)) {
        this.isSynced = true;
        this.sink.synced(this.index, at, 0);
      }
      return err;
    };
  }

  /** CDS and LDS applied, every route config the listeners name compiled, EDS applied if any is subscribed. */
  private hasAll(p: Proxy): boolean {
    const v = p.config.versions;
    if (!v.has(TYPE.CLUSTER) || !v.has(TYPE.LISTENER)) return false;
    for (const n of p.config.rdsNames()) if (!p.config.current.routeTable(n)) return false;
    return p.config.edsNames().length === 0 || v.has(TYPE.ENDPOINT);
  }
}
