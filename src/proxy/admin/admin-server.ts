// Envoy's admin interface (default 127.0.0.1:15000): config_dump, clusters, listeners, stats (text,
// JSON, Prometheus), ready, server_info, drain_listeners, quitquitquit, logging, reset_counters.
import type { Server } from 'node:http';
import {
  closeAdmin,
  helpReply,
  HELP,
  jsonReply,
  loggingReply,
  reply,
  requiresPost,
  serveAdmin,
  statsReply,
  type AdminReply,
} from './admin-reply.js';
import { renderClusters, renderClustersJson } from './clusters.js';
import { buildConfigDump } from './config-dump.js';
import type { AdminContext } from './admin-context.js';

/** The admin HTTP server of one proxy process. */
export class AdminServer {
  private server: Server | null = null;
  port = 0;

  constructor(private readonly ctx: AdminContext) {}

  /** Binds the admin listener; resolves to the bound port. */
  async listen(address: string, port: number): Promise<number> {
    const server = await serveAdmin(address, port, (m, u) => this.respond(m, u));
    this.server = server;
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
    return this.port;
  }

  /** Closes the admin listener. */
  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    return s ? closeAdmin(s) : Promise.resolve();
  }

  /** Answers one admin request (over HTTP, or relayed by the `--concurrency` primary). */
  respond(method: string, rawUrl: string): AdminReply | Promise<AdminReply> {
    const url = new URL(rawUrl, 'http://admin');
    const path = url.pathname;
    const q = url.searchParams;
    const ctx = this.ctx;
    if (requiresPost(path) && method !== 'POST') return reply(405, 'This endpoint requires POST\n');
    switch (path) {
      case '/':
      case '/help':
        return helpReply();
      case '/ready': {
        const s = ctx.state();
        return reply(s === 'LIVE' ? 200 : 503, `${s}\n`);
      }
      case '/server_info':
        return jsonReply(200, ctx.serverInfo());
      case '/config_dump':
        return jsonReply(200, buildConfigDump(ctx, q.has('include_eds'), q.get('resource')));
      case '/clusters':
        if (q.get('format') === 'json') return jsonReply(200, renderClustersJson(ctx.clusters));
        return reply(200, renderClusters(ctx.clusters));
      case '/listeners': {
        const ls = [...ctx.listeners.entries.values()].map((e) => e.listener);
        if (q.get('format') === 'json') {
          return jsonReply(200, {
            listenerStatuses: ls.map((l) => ({
              name: l.config.name,
              localAddress: {
                socketAddress: { address: l.config.address, portValue: l.boundPort || l.config.port },
              },
            })),
          });
        }
        return reply(200, ls.map((l) => `${l.config.name}::${l.boundAddress}\n`).join(''));
      }
      case '/stats':
      case '/stats/prometheus':
        return statsReply(ctx.store, path, q);
      case '/drain_listeners':
        ctx.listeners.drainAll(q.has('graceful'), q.has('inboundonly'));
        return reply(200, 'OK\n');
      case '/quitquitquit':
        return { ...reply(200, 'OK\n'), after: () => ctx.quit() };
      case '/reset_counters':
        ctx.store.resetCounters();
        return reply(200, 'OK\n');
      case '/logging':
        return loggingReply(method, q);
      case '/memory': {
        const m = process.memoryUsage();
        return jsonReply(200, {
          allocated: String(m.heapUsed),
          heapSize: String(m.heapTotal),
          totalPhysicalBytes: String(m.rss),
        });
      }
      case '/runtime':
        return jsonReply(200, { layers: [], entries: {} });
      default:
        return reply(404, `invalid path. admin commands are:\n${HELP.map(([p]) => `  ${p}\n`).join('')}`);
    }
  }
}
