// envoy.filters.http.router: the terminal filter. Answers direct responses and redirects, rejects
// missing routes/clusters, and hands routed requests to a RouterRequest.
import type { ActiveRequest } from '../../active-request.js';
import { ProxyErrorCode } from '../../local-reply.js';
import type { HeaderMap } from '../../route/header-mutation.js';
import { ActionKind, type WeightedCluster } from '../../route/route-entry.js';
import { FilterStatus, type HttpFilter, type HttpFilterFactory } from '../filter.js';
import { RouterRequest } from './router-request.js';

/** The router filter (stateless; per-request state lives in RouterRequest). */
export class RouterFilter implements HttpFilter {
  readonly isRouter = true;
  readonly encodeHeaders = null;
  readonly onDestroy = null;

  constructor(readonly name: string) {}

  decodeHeaders(req: ActiveRequest): FilterStatus {
    const route = req.route;
    const st = req.hcm.stats;
    if (route === null) {
      st.no_route.inc();
      req.sendLocalReply(ProxyErrorCode.NoRoute);
      return FilterStatus.Stop;
    }
    switch (route.kind) {
      case ActionKind.DirectResponse: {
        st.rq_direct_response.inc();
        req.responseCodeDetails = 'direct_response';
        const h: HeaderMap = {};
        this.responseMutations(req, h);
        req.sendResponse(route.directStatus, h, route.directBody);
        return FilterStatus.Stop;
      }
      case ActionKind.Redirect: {
        st.rq_redirect.inc();
        const h: HeaderMap = { location: route.redirect!.location(req, route.matchedPrefix) };
        this.responseMutations(req, h);
        req.sendResponse(route.redirect!.status, h, null);
        return FilterStatus.Stop;
      }
      case ActionKind.NonForwarding:
        req.sendLocalReply(ProxyErrorCode.NoRoute);
        return FilterStatus.Stop;
    }
    if (req.upgrade !== null) {
      const allowed = route.upgrades?.get(req.upgrade) ?? (req.upgrade === 'websocket' && req.hcm.websocket);
      if (!allowed) {
        st.downstream_rq_ws_on_non_ws_route.inc();
        req.sendLocalReply(ProxyErrorCode.UpgradeRejected);
        return FilterStatus.Stop;
      }
    }
    let weighted: WeightedCluster | null = null;
    let name: string;
    if (route.weighted !== null) {
      weighted = route.pickWeighted();
      name = weighted.name;
    } else if (route.cluster !== null) name = route.cluster;
    else {
      const v = req.headers[route.clusterHeader!];
      name = typeof v === 'string' ? v : '';
    }
    const cluster = req.snapshot.cluster(name);
    req.upstreamCluster = name;
    if (!cluster) {
      st.no_cluster.inc();
      req.sendLocalReply(ProxyErrorCode.ClusterNotFound);
      return FilterStatus.Stop;
    }
    const rr = new RouterRequest(req, route, cluster, weighted);
    req.handler = rr;
    rr.start();
    return FilterStatus.Stop;
  }

  private responseMutations(req: ActiveRequest, h: HeaderMap): void {
    req.route?.responseHeaders?.apply(h);
    req.vhost?.responseHeaders?.apply(h);
    req.table?.responseHeaders?.apply(h);
  }
}

/** Factory for `envoy.filters.http.router`. */
export const routerFactory: HttpFilterFactory = {
  names: ['envoy.filters.http.router', 'envoy.router'],
  configTypes: ['envoy.extensions.filters.http.router.v3.Router'],
  create: (name) => new RouterFilter(name),
  compilePerRoute: null,
};
