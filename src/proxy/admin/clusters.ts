// Admin /clusters in Envoy's text format (`name::host:port::stat::value`) and as JSON.
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { Host } from '../upstream/host.js';

function hostStats(h: Host): Array<[string, number]> {
  return [
    ['cx_active', h.cxActive],
    ['cx_connect_fail', h.cxConnectFail],
    ['cx_total', h.cxTotal],
    ['rq_active', h.rqActive],
    ['rq_error', h.rqError],
    ['rq_success', h.rqSuccess],
    ['rq_timeout', h.rqTimeout],
    ['rq_total', h.rqTotal],
  ];
}

/** Envoy's text format. */
export function renderClusters(cm: ClusterManager): string {
  let out = '';
  const names = [...cm.entries.keys()].sort();
  for (const name of names) {
    const e = cm.entries.get(name)!;
    const c = e.cluster;
    const l = c.breaker.limits;
    out += `${name}::observability_name::${c.config.altStatName || name}\n`;
    for (const prio of ['default_priority', 'high_priority']) {
      out += `${name}::${prio}::max_connections::${l.maxConnections}\n`;
      out += `${name}::${prio}::max_pending_requests::${l.maxPendingRequests}\n`;
      out += `${name}::${prio}::max_requests::${l.maxRequests}\n`;
      out += `${name}::${prio}::max_retries::${l.maxRetries}\n`;
    }
    if (c.outlier !== null) {
      // Envoy prints the success-rate detector's figures; Mizzen runs only consecutive-error detectors.
      out += `${name}::outlier::success_rate_average::-1\n`;
      out += `${name}::outlier::success_rate_ejection_threshold::-1\n`;
      out += `${name}::outlier::local_origin_success_rate_average::-1\n`;
      out += `${name}::outlier::local_origin_success_rate_ejection_threshold::-1\n`;
    }
    out += `${name}::added_via_api::${e.source === 'dynamic'}\n`;
    if (c.type === 'EDS') out += `${name}::eds_service_name::${c.edsServiceName}\n`;
    for (const h of c.hostSet.hosts) {
      const p = `${name}::${h.key}::`;
      for (const [k, v] of hostStats(h)) out += `${p}${k}::${v}\n`;
      out += `${p}hostname::${h.hostname}\n`;
      out += `${p}health_flags::${h.healthFlags()}\n`;
      out += `${p}weight::${h.weight}\n`;
      out += `${p}region::${h.locality.region}\n`;
      out += `${p}zone::${h.locality.zone}\n`;
      out += `${p}sub_zone::${h.locality.subZone}\n`;
      out += `${p}canary::false\n`;
      out += `${p}priority::${h.priority}\n`;
      out += `${p}success_rate::-1\n`;
      out += `${p}local_origin_success_rate::-1\n`;
    }
  }
  return out;
}

/** JSON (canonical form of envoy.admin.v3.Clusters). */
export function renderClustersJson(cm: ClusterManager): unknown {
  return {
    clusterStatuses: [...cm.entries.values()].map((e) => ({
      name: e.cluster.name,
      addedViaApi: e.source === 'dynamic',
      hostStatuses: e.cluster.hostSet.hosts.map((h) => ({
        address: { socketAddress: { address: h.address, portValue: h.port } },
        stats: hostStats(h).map(([name, value]) => ({
          name,
          value,
          type: name.endsWith('active') ? 'GAUGE' : 'COUNTER',
        })),
        healthStatus: {
          edsHealthStatus: h.healthStatus,
          ...(h.outlierEjected ? { failedOutlierCheck: true } : {}),
        },
        weight: h.weight,
        hostname: h.hostname,
        priority: h.priority,
        locality: h.locality,
      })),
    })),
  };
}
