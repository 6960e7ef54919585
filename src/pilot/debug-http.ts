// The control plane's debug/monitoring HTTP server: /debug/configz, /debug/syncz, /debug/config_dump,
// /debug/explain, /debug/config_health, /metrics.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatDiagnostic } from '../api/diagnostic.js';
import { resourceName } from '../api/resource.js';
import type { ConfigStore } from '../config/store.js';
import type { AdsServer } from '../xds/ads-server.js';
import { TypeUrl } from '../xds/type-urls.js';
import type { Generator, ProxyRef } from './generator.js';
import type { PushContext } from './push-context.js';
import { PilotMetrics } from './metrics.js';
import type { Envoy } from './envoy.js';
import { mizzenVersion } from './version.js';
import { explainQuery } from './explain/explain-query.js';
import { HealthSource } from './health/health-source.js';

/** What the debug server reads. */
export interface DebugSources {
  readonly store: ConfigStore;
  readonly ads: AdsServer;
  readonly generator: Generator;
  readonly push: () => PushContext;
  /** Handlers tried before the debug paths (the config API); absent = none. */
  readonly routes?: HttpRoutes;
}

/** Extra HTTP handlers: return true when the request was taken (the handler answers it). */
export type HttpRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/** Serves the debug endpoints; `listen` resolves with the bound address. */
export class DebugServer {
  private readonly server: Server;
  private readonly pilotMetrics: PilotMetrics;
  private readonly healthSource: HealthSource;

  constructor(private readonly src: DebugSources) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.healthSource = new HealthSource(src);
    this.pilotMetrics = new PilotMetrics({
      ads: () => src.ads.metrics(),
      convergenceSamples: () => src.ads.takeConvergenceSamples(),
      services: () => src.push().registry.services.length,
      virtualServices: () => src.push().snapshot.byKind('VirtualService').length,
      configVersion: () => src.push().version,
      configEvents: () => src.store.eventCounts.totals(),
      rejected: () => {
        const rejected = src.store.status().files.filter((f) => f.state === 'rejected');
        const errors = rejected.reduce(
          (n, f) => n + f.diagnostics.filter((d) => d.severity === 'error').length,
          0,
        );
        return { files: rejected.length, errors };
      },
    });
  }

  /** Binds `host:port` (port 0 picks one); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops accepting and closes idle connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (this.src.routes?.(req, res, url)) return;
      switch (url.pathname) {
        case '/debug/configz':
          return json(res, 200, this.configz());
        case '/debug/syncz':
          return json(res, 200, this.syncz());
        case '/debug/config_dump':
          return this.configDump(res, url.searchParams.get('proxyID') ?? '');
        case '/debug/explain':
          return this.explain(res, url.searchParams);
        case '/debug/config_health':
          return json(res, 200, this.healthSource.health());
        case '/metrics':
          return this.metrics(res);
        case '/ready':
        case '/healthz':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
          return;
        default:
          json(res, 404, {
            error: 'not found',
            endpoints: [
              '/debug/configz',
              '/debug/syncz',
              '/debug/config_dump?proxyID=',
              '/debug/explain?proxyID=&method=&host=&port=&path=&header=',
              '/debug/config_health',
              '/metrics',
            ],
          });
      }
    } catch (err) {
      json(res, 500, { error: (err as Error).message });
    }
  }

  private configz(): unknown {
    const snap = this.src.store.snapshot();
    const status = this.src.store.status();
    const byName = new Map(status.resources.map((s) => [s.resource, s]));
    const diag = (ds: readonly Parameters<typeof formatDiagnostic>[0][]) =>
      ds.map((d) => ({ ...d, text: formatDiagnostic(d) }));
    const resources = snap.resources.map((r) => {
      const st = byName.get(resourceName(r));
      return {
        kind: r.kind,
        namespace: r.metadata.namespace,
        name: r.metadata.name,
        state: st?.state ?? 'ok',
        file: st?.file,
        line: st?.line,
        diagnostics: diag(st?.diagnostics ?? []),
        resource: r,
      };
    });
    const served = new Set(snap.resources.map((r) => resourceName(r)));
    const rejected = status.resources
      .filter((s) => s.state === 'rejected' && !served.has(s.resource))
      .map((s) => ({ ...s, diagnostics: diag(s.diagnostics) }));
    return {
      version: snap.version,
      resources,
      rejected,
      files: status.files.map((f) => ({ ...f, diagnostics: diag(f.diagnostics) })),
    };
  }

  /** Every proxy's ADS sync state, each with the control plane's version (istioctl's VERSION column). */
  private syncz(): unknown {
    const controlPlaneVersion = mizzenVersion();
    return this.src.ads.syncStatus().map((s) => ({ ...s, controlPlaneVersion }));
  }

  /** The connected proxy `proxyID` names (full id, pod.namespace, or a part of the id). */
  private findProxy(proxyID: string): ProxyRef | undefined {
    const connected = this.src.ads.proxies();
    return (
      connected.find((p) => p.id === proxyID) ??
      connected.find((p) => p.id.split('~')[2] === proxyID) ??
      connected.find((p) => p.id.includes(proxyID)) ??
      (proxyID.includes('~') ? { id: proxyID, metadata: {}, node: {} } : undefined)
    );
  }

  /** Which listener, rule, route, cluster and endpoints a described request from a proxy takes. */
  private explain(res: ServerResponse, q: URLSearchParams): void {
    const proxyID = q.get('proxyID') ?? '';
    if (!proxyID) return json(res, 400, { error: 'proxyID is required, e.g. ?proxyID=productpage' });
    const info = this.findProxy(proxyID);
    if (!info) return json(res, 404, { error: `no connected proxy matches ${proxyID}` });
    const r = explainQuery(this.src.generator, this.src.push(), info, q, { proxies: this.src.ads.proxies() });
    json(res, 'error' in r && !('proxy' in r) ? 400 : 200, r);
  }

  private configDump(res: ServerResponse, proxyID: string): void {
    if (!proxyID) return json(res, 400, { error: 'proxyID is required, e.g. ?proxyID=reviews-v1-0.default' });
    const info = this.findProxy(proxyID);
    if (!info) return json(res, 404, { error: `no connected proxy matches ${proxyID}` });
    const g = this.src.generator;
    const routes = g.wholeRouteConfigs(info, g.routeNames(info));
    const listeners = g.generate(info, TypeUrl.LISTENER, []);
    const clusters = g.generate(info, TypeUrl.CLUSTER, []);
    const eds = clusters.filter((c) => c.type === 'EDS').map((c) => c.name as string);
    const endpoints = g.generate(info, TypeUrl.ENDPOINT, eds);
    json(res, 200, {
      proxy: info.id,
      version: this.src.push().version,
      listeners,
      routes,
      clusters,
      endpoints,
    } satisfies Record<string, unknown> & { listeners: readonly Envoy[] });
  }

  private metrics(res: ServerResponse): void {
    this.pilotMetrics.render().then(
      (body) => res.writeHead(200, { 'content-type': this.pilotMetrics.registry.contentType }).end(body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
    );
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
}
