// The details of one graph node: its calls in and out over the window and, for a workload or gateway,
// its pods' proxies with their sync state per xDS type, the resources whose config reaches them and
// each sidecar's listeners, routes, clusters, certificates and access log.
import type { ConfigHealth } from '../../pilot/health/config-health.js';
import type { Graph, GraphNode } from '../graph-model.js';
import { usePoll } from './api.js';
import { ms, pct, rate } from './format.js';
import { SidecarView } from './sidecar-view.js';

/** Pod `name.namespace` of a node id `sidecar~ip~name.ns~…`. */
function podOf(id: string): string {
  return id.split('~')[2] ?? id;
}

/** The proxies of a workload node: pods named `<workload>-…` in its namespace (or the gateway's). */
function proxiesOf(node: GraphNode, health: ConfigHealth | null): ConfigHealth['proxies'] {
  const name = node.id.startsWith('wl:') ? node.id.slice(node.id.indexOf('/') + 1) : '';
  if (!name || !health) return [];
  return health.proxies.filter((p) => {
    const pod = podOf(p.id);
    return pod.startsWith(`${name}-`) && pod.endsWith(`.${node.namespace ?? ''}`);
  });
}

/** The panel for node `id` of graph `g`; `onClose` deselects. */
export function WorkloadPanel({ g, id, onClose }: { g: Graph; id: string; onClose: () => void }) {
  const health = usePoll<ConfigHealth>('/api/health', 5000);
  const node = g.nodes.find((n) => n.id === id);
  if (!node) return null;
  const members = new Set([id, ...g.nodes.filter((n) => n.parent === id).map((n) => n.id)]);
  const names = new Map(g.nodes.map((n) => [n.id, n.label]));
  const inbound = g.edges.filter((e) => members.has(e.target));
  const outbound = g.edges.filter((e) => members.has(e.source));
  const proxies = proxiesOf(node, health.data);
  const reaching = (health.data?.resources ?? []).filter((r) =>
    proxies.some((p) => r.reaches.includes(p.id)),
  );
  const edgeRow = (e: Graph['edges'][number], other: string) => (
    <li key={e.id}>
      {names.get(other) ?? other}: {rate(e.rps)} {e.protocol === 'tcp' ? 'conn/s' : 'rps'}, {pct(e.errorRate)}{' '}
      errors, p99 {ms(e.p99Ms)}
      {e.mtls ? ', mTLS' : ''}
    </li>
  );
  return (
    <aside class="details" aria-labelledby="details-title">
      <div class="toolbar">
        <h3 id="details-title">
          {node.label}{' '}
          <span class="status">
            ({node.kind}
            {node.namespace ? `, ${node.namespace}` : ''})
          </span>
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <h4>Called by</h4>
      <ul>{inbound.length ? inbound.map((e) => edgeRow(e, e.source)) : <li>nothing in the window</li>}</ul>
      <h4>Calls</h4>
      <ul>{outbound.length ? outbound.map((e) => edgeRow(e, e.target)) : <li>nothing in the window</li>}</ul>
      {node.kind === 'workload' || node.kind === 'gateway' ? (
        <>
          <h4>Pods and their proxies</h4>
          <ul class="pods">
            {proxies.length === 0 ? <li>no connected proxy</li> : null}
            {proxies.map((p) => (
              <li key={p.id} data-proxy={p.id}>
                {podOf(p.id)} <span class={`badge ${p.state}`}>{p.state}</span>{' '}
                {p.types.map((t) => `${t.type} ${t.state}`).join(' · ')}
                {p.types
                  .filter((t) => t.nack)
                  .map((t) => (
                    <div key={t.type} class="nack">
                      {t.type} NACK {t.nack!.version}: {t.nack!.message}
                    </div>
                  ))}
              </li>
            ))}
          </ul>
          <h4>Config reaching it</h4>
          <ul class="reaching">
            {reaching.length === 0 ? <li>–</li> : null}
            {reaching.map((r) => (
              <li key={r.resource}>
                {r.resource} <span class={`badge ${r.state}`}>{r.state}</span>
              </li>
            ))}
          </ul>
          <SidecarView name={node.id.slice(node.id.indexOf('/') + 1)} namespace={node.namespace ?? ''} />
        </>
      ) : null}
    </aside>
  );
}
