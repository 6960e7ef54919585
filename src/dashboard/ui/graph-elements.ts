// The graph model → Cytoscape elements: service boxes as compound parents, edge labels with rate,
// errors, p99, protocol, the mTLS lock and a weighted route's configured / observed split.
import type { ElementDefinition } from 'cytoscape';
import type { Graph, GraphEdge, GraphNode } from '../graph-model.js';
import { ms, pct, rate } from './format.js';

/** What a mutual-TLS edge's label starts with (canvas text: no emoji font needed). */
export const MTLS_MARK = 'mTLS';

/** One line per figure, as drawn on an edge. */
export function edgeLabel(e: GraphEdge): string {
  const head = `${e.mtls ? `${MTLS_MARK} · ` : ''}${rate(e.rps)} ${e.protocol === 'tcp' ? 'conn/s' : 'rps'} · ${e.protocol}`;
  const lines = [head];
  if (e.protocol !== 'tcp') lines.push(`${pct(e.errorRate)} err · p99 ${ms(e.p99Ms)}`);
  if (e.configuredWeight !== undefined)
    lines.push(`weight ${e.configuredWeight}% · seen ${Math.round(e.observedShare ?? 0)}%`);
  return lines.join('\n');
}

function nodeLabel(n: GraphNode): string {
  if (!n.split) return n.label;
  const versions = [
    ...new Set([...Object.keys(n.split.configured), ...Object.keys(n.split.observed)]),
  ].sort();
  const parts = versions.map(
    (v) => `${v} ${n.split!.configured[v] ?? 0}/${Math.round(n.split!.observed[v] ?? 0)}%`,
  );
  return `${n.label}\nconfigured/seen: ${parts.join(' ')}`;
}

/** Cytoscape elements of a graph (idle services hidden unless `showIdle`). */
export function toElements(g: Graph, showIdle: boolean): ElementDefinition[] {
  const used = new Set<string>();
  for (const e of g.edges) used.add(e.source).add(e.target);
  for (const n of g.nodes) if (n.parent && used.has(n.id)) used.add(n.parent);
  const nodes = g.nodes
    .filter((n) => showIdle || !n.idle || used.has(n.id))
    .map((n): ElementDefinition => ({
      group: 'nodes',
      data: { id: n.id, label: nodeLabel(n), kind: n.kind, ...(n.parent ? { parent: n.parent } : {}) },
      classes: `${n.kind}${n.idle && !used.has(n.id) ? ' idle' : ''}`,
    }));
  const edges = g.edges.map((e): ElementDefinition => ({
    group: 'edges',
    data: {
      id: e.id,
      source: e.source,
      target: e.target,
      label: edgeLabel(e),
      width: Math.min(8, 1 + Math.log10(1 + e.rps) * 3),
    },
    classes: `${e.mtls ? 'mtls' : 'plain'}${e.errorRate > 0.01 ? ' failing' : ''}`,
  }));
  return [...nodes, ...edges];
}
