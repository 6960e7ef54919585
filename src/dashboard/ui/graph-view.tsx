// The live mesh graph: Cytoscape with the dagre layout, refreshed every 3 s in place (layout reruns
// only when nodes or edges come or go), plus the same edges as an accessible table.
import { useEffect, useRef, useState } from 'preact/hooks';
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import type { Graph, GraphNode } from '../graph-model.js';
import { usePoll } from './api.js';
import { toElements } from './graph-elements.js';
import { Lock } from './lock.js';
import { WorkloadPanel } from './workload-panel.js';
import { ms, pct, rate } from './format.js';

cytoscape.use(dagre);

/** What /api/graph answers. */
type GraphAnswer = Graph & { window: string; metrics: string; at: number };

const POLL_MS = 3000;

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function style(): cytoscape.StylesheetJson {
  const fg = css('--fg');
  return [
    {
      selector: 'node',
      style: {
        label: 'data(label)',
        color: fg,
        'font-size': 12,
        'text-wrap': 'wrap',
        'text-valign': 'bottom',
        'text-margin-y': 4,
        'background-color': css('--node'),
        width: 26,
        height: 26,
      },
    },
    {
      selector: ':parent',
      style: {
        shape: 'round-rectangle',
        'background-color': css('--box'),
        'background-opacity': 0.6,
        'border-color': css('--border'),
        'border-width': 1,
        'text-valign': 'top',
        'text-margin-y': -4,
        padding: '14px',
        'font-weight': 'bold',
      },
    },
    { selector: 'node.gateway', style: { shape: 'diamond', 'background-color': css('--gateway') } },
    { selector: 'node.serviceentry', style: { shape: 'hexagon', 'background-color': css('--external') } },
    {
      selector: 'node.service:childless',
      style: { shape: 'triangle', 'background-color': css('--service') },
    },
    { selector: 'node.unknown', style: { shape: 'octagon', 'background-color': css('--muted') } },
    { selector: 'node.idle', style: { opacity: 0.45 } },
    {
      selector: 'edge',
      style: {
        label: 'data(label)',
        color: fg,
        'font-size': 11,
        'text-wrap': 'wrap',
        'text-background-color': css('--bg'),
        'text-background-opacity': 0.85,
        'text-background-padding': '2px',
        'curve-style': 'bezier',
        'target-arrow-shape': 'triangle',
        width: 'data(width)',
        'line-color': css('--edge'),
        'target-arrow-color': css('--edge'),
      },
    },
    { selector: 'edge.mtls', style: { 'line-color': css('--mtls'), 'target-arrow-color': css('--mtls') } },
    { selector: 'edge.failing', style: { 'line-color': css('--bad'), 'target-arrow-color': css('--bad') } },
  ];
}

function ids(els: readonly ElementDefinition[]): string {
  return els
    .map((e) => `${e.data.id ?? ''}>${(e.data as { parent?: string }).parent ?? ''}`)
    .sort()
    .join('|');
}

/** Replaces or updates the drawn elements; relayouts only when the shape changed. */
function draw(cy: Core, els: ElementDefinition[], shape: { current: string }): void {
  const key = ids(els);
  if (key === shape.current) {
    cy.batch(() => {
      for (const e of els)
        cy.getElementById(e.data.id!)
          .data(e.data)
          .classes(e.classes ?? '');
    });
    return;
  }
  shape.current = key;
  cy.batch(() => {
    cy.elements().remove();
    cy.add(els);
  });
  cy.layout({
    name: 'dagre',
    rankDir: 'LR',
    nodeSep: 70,
    rankSep: 200,
    padding: 20,
  } as cytoscape.LayoutOptions).run();
}

function nameOf(nodes: Map<string, GraphNode>, id: string): string {
  const n = nodes.get(id);
  if (!n) return id;
  const box = n.parent ? nodes.get(n.parent) : undefined;
  return box ? `${box.label} / ${n.label}` : n.label;
}

/** The graph tab. */
export function GraphView() {
  const [window, setWindow] = useState('1m');
  const [idle, setIdle] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const polled = usePoll<GraphAnswer>(`/api/graph?window=${window}`, POLL_MS);
  const holder = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const shape = useRef('');
  useEffect(() => {
    const c = cytoscape({
      container: holder.current,
      style: style(),
      wheelSensitivity: 0.3,
      minZoom: 0.2,
      maxZoom: 3,
    });
    c.on('tap', 'node', (ev) => setSelected(String(ev.target.id())));
    cy.current = c;
    return () => c.destroy();
  }, []);
  const g = polled.data;
  useEffect(() => {
    if (!g || !cy.current || !holder.current) return;
    draw(cy.current, toElements(g, idle), shape);
    // What Cytoscape holds now, for tests and scripts (the canvas itself is not inspectable).
    holder.current.dataset.drawnEdges = String(cy.current.edges().length);
    holder.current.dataset.drawnNodes = String(cy.current.nodes().length);
  }, [g, idle]);
  const nodes = new Map((g?.nodes ?? []).map((n) => [n.id, n]));
  const edges = [...(g?.edges ?? [])].sort(
    (a, b) =>
      nameOf(nodes, a.source).localeCompare(nameOf(nodes, b.source)) ||
      nameOf(nodes, a.target).localeCompare(nameOf(nodes, b.target)),
  );
  return (
    <section aria-labelledby="graph-title">
      <div class="toolbar">
        <h2 id="graph-title">Graph</h2>
        <label>
          Window{' '}
          <select value={window} onChange={(e) => setWindow((e.target as HTMLSelectElement).value)}>
            <option value="1m">last 1 minute</option>
            <option value="5m">last 5 minutes</option>
            <option value="1h">last hour</option>
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={idle}
            onChange={(e) => setIdle((e.target as HTMLInputElement).checked)}
          />{' '}
          idle services
        </label>
        <span class="status" role="status">
          {polled.error
            ? `update failed: ${polled.error}`
            : g
              ? `${edges.length} edges · ${g.seconds.toFixed(0)} s of data · metrics from ${g.metrics} · updated ${new Date(polled.at).toLocaleTimeString()}`
              : 'loading…'}
        </span>
      </div>
      <div
        id="graph"
        class="graph"
        ref={holder}
        role="img"
        aria-label="mesh graph; the table below lists the same edges"
      />
      {g && selected ? <WorkloadPanel g={g} id={selected} onClose={() => setSelected(null)} /> : null}
      <p class="legend">
        ◆ gateway · ● workload (inside its service box) · ⬢ ServiceEntry host · ▲ service without workloads ·
        <Lock /> / green: mutual TLS · red: &gt;1% errors
      </p>
      <table class="edges" aria-label="edges">
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Protocol</th>
            <th scope="col">Rate</th>
            <th scope="col">Errors</th>
            <th scope="col">p99</th>
            <th scope="col">mTLS</th>
            <th scope="col">Weight configured / seen</th>
          </tr>
        </thead>
        <tbody>
          {edges.map((e) => (
            <tr key={e.id} data-source={e.source} data-target={e.target}>
              <td>
                <button type="button" class="link" onClick={() => setSelected(e.source)}>
                  {nameOf(nodes, e.source)}
                </button>
              </td>
              <td>
                <button type="button" class="link" onClick={() => setSelected(e.target)}>
                  {nameOf(nodes, e.target)}
                </button>
              </td>
              <td>{e.protocol}</td>
              <td class="num" data-rps={e.rps}>
                {rate(e.rps)} {e.protocol === 'tcp' ? 'conn/s' : 'rps'}
              </td>
              <td class="num">{e.protocol === 'tcp' ? '–' : pct(e.errorRate)}</td>
              <td class="num">{ms(e.p99Ms)}</td>
              <td class="mtls">{e.mtls ? <Lock /> : <span title="not mutual TLS">–</span>}</td>
              <td class="num">
                {e.configuredWeight !== undefined
                  ? `${e.configuredWeight}% / ${Math.round(e.observedShare ?? 0)}%`
                  : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
