// Config health: every resource with its state, problems (file:line:col, IST codes) and the proxies it
// reaches; every proxy's sync state per xDS type with NACK details. Refreshed every 3 s.
import { useState } from 'preact/hooks';
import type { ConfigHealth, ProxyHealth, ResourceHealth } from '../../pilot/health/config-health.js';
import { usePoll } from './api.js';

const POLL_MS = 3000;
const TYPES = ['CDS', 'EDS', 'LDS', 'RDS', 'SDS'];

function proxyName(id: string): string {
  return id.split('~')[2] ?? id;
}

function ResourceRow({ r }: { r: ResourceHealth }) {
  const where = r.file ? `${r.file}${r.line ? `:${r.line}` : ''}` : '';
  // The last two path segments are enough to read; the whole path is in the tooltip and the problems.
  const short = where.split('/').slice(-2).join('/');
  return (
    <tr class={`state-${r.state}`} data-resource={r.resource}>
      <td>
        <span class={`badge ${r.state}`}>{r.state}</span>
      </td>
      <td>{r.resource}</td>
      <td class="where" title={where}>
        {short}
      </td>
      <td>
        {r.diagnostics.length === 0 ? (
          '–'
        ) : (
          <ul class="diags">
            {r.diagnostics.map((d, i) => (
              <li key={i} class={d.severity}>
                {d.code ? <code>{d.code}</code> : null} {d.text}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {r.reaches.length === 0 ? (
          r.state === 'rejected' ? (
            'not served'
          ) : (
            '–'
          )
        ) : (
          <details>
            <summary>
              {r.reaches.length} prox{r.reaches.length === 1 ? 'y' : 'ies'}
            </summary>
            <ul>
              {r.reaches.map((id) => (
                <li key={id}>{proxyName(id)}</li>
              ))}
            </ul>
          </details>
        )}
      </td>
    </tr>
  );
}

function ProxyRow({ p }: { p: ProxyHealth }) {
  const byType = new Map(p.types.map((t) => [t.type, t]));
  const nacks = p.types.filter((t) => t.nack);
  return (
    <tr class={`state-${p.state}`} data-proxy={p.id}>
      <td title={p.id}>{proxyName(p.id)}</td>
      <td>
        <span class={`badge ${p.state}`}>{p.state}</span>
      </td>
      {TYPES.map((t) => {
        const s = byType.get(t);
        return (
          <td
            key={t}
            title={s ? `sent ${s.sent}, acked ${s.acked}, ${s.resources} resources` : 'not subscribed'}
          >
            {s ? s.state : '–'}
          </td>
        );
      })}
      <td>
        {nacks.length === 0
          ? '–'
          : nacks.map((t) => (
              <div key={t.type} class="nack">
                {t.type} {t.nack!.version}: {t.nack!.message}
              </div>
            ))}
      </td>
    </tr>
  );
}

/** The config health tab. */
export function HealthView() {
  const polled = usePoll<ConfigHealth>('/api/health', POLL_MS);
  const [filter, setFilter] = useState('all');
  const h = polled.data;
  const rank = { rejected: 0, warning: 1, applied: 2 };
  const resources = (h?.resources ?? [])
    .filter((r) => filter === 'all' || r.state === filter)
    .sort((a, b) => rank[a.state] - rank[b.state] || a.resource.localeCompare(b.resource));
  const count = (s: string): number => (h?.resources ?? []).filter((r) => r.state === s).length;
  return (
    <section aria-labelledby="health-title">
      <div class="toolbar">
        <h2 id="health-title">Config health</h2>
        <label>
          Show{' '}
          <select value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}>
            <option value="all">all resources</option>
            <option value="rejected">rejected ({count('rejected')})</option>
            <option value="warning">warnings ({count('warning')})</option>
            <option value="applied">applied ({count('applied')})</option>
          </select>
        </label>
        <span class="status" role="status">
          {polled.error ? `update failed: ${polled.error}` : h ? `config version ${h.version}` : 'loading…'}
        </span>
      </div>
      <h3>Resources</h3>
      <table class="resources" aria-label="resources">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Resource</th>
            <th scope="col">File</th>
            <th scope="col">Problems</th>
            <th scope="col">Reaches</th>
          </tr>
        </thead>
        <tbody>
          {resources.map((r) => (
            <ResourceRow key={r.resource} r={r} />
          ))}
        </tbody>
      </table>
      <h3>Proxies</h3>
      <table class="proxies" aria-label="proxies">
        <thead>
          <tr>
            <th scope="col">Proxy</th>
            <th scope="col">State</th>
            {TYPES.map((t) => (
              <th key={t} scope="col">
                {t}
              </th>
            ))}
            <th scope="col">Last NACK</th>
          </tr>
        </thead>
        <tbody>
          {(h?.proxies ?? []).map((p) => (
            <ProxyRow key={p.id} p={p} />
          ))}
        </tbody>
      </table>
    </section>
  );
}
