// Route explainer: a request from a source workload → /debug/explain's answer: listener, the rule that
// matched with file:line:col, why earlier routes did not, clusters, subsets, endpoints and policies.
import { useState } from 'preact/hooks';
import type { Explanation, TriedRoute } from '../../pilot/explain/explain.js';
import type { AuthzExplain } from '../../pilot/explain/authz-explain.js';
import { whereOfPolicy } from '../../pilot/explain/authz-source.js';
import { whereOf } from '../../pilot/explain/format.js';
import { getJson, usePoll } from './api.js';

/** A proxy the request can come from. */
interface Source {
  id: string;
  name: string;
  gateway: boolean;
}

function Tried({ t }: { t: TriedRoute }) {
  return (
    <li class={t.matched ? 'matched' : 'skipped'}>
      <strong>#{t.index}</strong> {t.name ? <code>{t.name}</code> : null}{' '}
      {t.matched ? <strong>matched</strong> : <span>did not match: {t.why}</span>} — {whereOf(t.source)}
    </li>
  );
}

const MATCH = { yes: 'matches', no: 'no match', token: "depends on the request's token" } as const;

/** The authorization decision at one destination workload and the policies that took part. */
function Authz({ a }: { a: AuthzExplain }) {
  return (
    <li class="authz" data-workload={a.workload} data-at={a.at} data-decision={a.decision}>
      <span class={`badge ${a.decision}`}>{a.decision}</span> at <strong>{a.workload}</strong> ({a.address},{' '}
      {a.at === 'gateway'
        ? 'the gateway itself, client taken as 127.0.0.1'
        : a.principal
          ? `mutual TLS as ${a.principal}`
          : 'plaintext'}
      ): <span class="summary">{a.summary}</span>
      {a.connected ? null : <span class="status"> (generated for its sidecar; not connected)</span>}
      {a.requestAuthentication ? (
        <p class="jwt">
          RequestAuthentication verifies tokens of {a.requestAuthentication.issuers.join(', ')} (an invalid
          token is rejected with 401; none passes): {a.requestAuthentication.resources.join('; ')}
        </p>
      ) : null}
      {a.steps.some((s) => s.policies.length > 0) ? (
        <ul class="authz-policies">
          {a.steps.flatMap((s, i) =>
            s.policies.map((p, j) => (
              <li key={`${i}-${j}`} class={p.match}>
                {s.action}
                {s.dryRun ? ' (dry-run)' : ''}: {MATCH[p.match]} — {whereOfPolicy(p.source)}
              </li>
            )),
          )}
        </ul>
      ) : null}
    </li>
  );
}

function Answer({ e }: { e: Explanation }) {
  const m = e.route;
  return (
    <div class="answer" aria-live="polite">
      {e.error ? <p class="error">{e.error}</p> : null}
      <dl>
        <dt>Request</dt>
        <dd>
          {e.request.method} http://{e.request.authority}
          {e.request.path}
        </dd>
        {e.listener ? (
          <>
            <dt>Listener</dt>
            <dd>
              {e.listener.name} (filter chain {e.listener.filterChain}) →{' '}
              {e.listener.routeConfig
                ? `route config ${e.listener.routeConfig}`
                : `tcp_proxy ${e.listener.tcpCluster ?? ''}`}
            </dd>
          </>
        ) : null}
        {e.virtualHost ? (
          <>
            <dt>Virtual host</dt>
            <dd>{e.virtualHost.name}</dd>
          </>
        ) : null}
        {m ? (
          <>
            <dt>Rule</dt>
            <dd class="rule">{whereOf(m.source)}</dd>
            <dt>Route</dt>
            <dd>
              {m.name || `#${m.index}`} ({m.action})
            </dd>
          </>
        ) : null}
      </dl>
      {e.tried.length > 0 ? (
        <>
          <h3>Routes tried (first match wins)</h3>
          <ol class="tried">
            {e.tried.map((t) => (
              <Tried key={t.index} t={t} />
            ))}
          </ol>
        </>
      ) : null}
      {m && m.clusters.length > 0 ? (
        <>
          <h3>Clusters</h3>
          <table class="clusters" aria-label="clusters">
            <thead>
              <tr>
                <th scope="col">Cluster</th>
                <th scope="col">Share</th>
                <th scope="col">Subset</th>
                <th scope="col">LB</th>
                <th scope="col">TLS</th>
                <th scope="col">Endpoints</th>
              </tr>
            </thead>
            <tbody>
              {m.clusters.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td class="num">{c.percent}%</td>
                  <td>{c.subset ?? '–'}</td>
                  <td>{c.lbPolicy ?? '–'}</td>
                  <td>{c.tls ?? '–'}</td>
                  <td>
                    {c.endpoints.length === 0
                      ? (c.error ?? 'none (503 UH)')
                      : c.endpoints
                          .map((x) => `${x.address}${x.health === 'HEALTHY' ? '' : ` ${x.health}`}`)
                          .join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {m ? (
        <>
          <h3>Policies</h3>
          <dl class="policies">
            <dt>Timeout</dt>
            <dd>{m.timeoutMs > 0 ? `${m.timeoutMs} ms` : 'none'}</dd>
            <dt>Retries</dt>
            <dd>{m.retries ? `${m.retries.numRetries} on ${m.retries.retryOn}` : 'none'}</dd>
            <dt>Fault</dt>
            <dd>
              {[m.fault?.delay && `delay ${m.fault.delay}`, m.fault?.abort && `abort ${m.fault.abort}`]
                .filter(Boolean)
                .join('; ') || 'none'}
            </dd>
            <dt>Mirror</dt>
            <dd>{(m.mirrors ?? []).map((x) => `${x.cluster} (${x.percent}%)`).join(', ') || 'none'}</dd>
            {m.rewrite ? (
              <>
                <dt>Rewrite</dt>
                <dd>{JSON.stringify(m.rewrite)}</dd>
              </>
            ) : null}
            {m.directResponse ? (
              <>
                <dt>Direct response</dt>
                <dd>{m.directResponse.status}</dd>
              </>
            ) : null}
            <dt>Authorization</dt>
            <dd>
              {e.authzError ? (
                `not computed: ${e.authzError}`
              ) : (e.authz ?? []).length === 0 ? (
                'no mesh workload behind the route: not evaluated'
              ) : (
                <ul class="authz">
                  {(e.authz ?? []).map((a) => (
                    <Authz key={`${a.at} ${a.workload}`} a={a} />
                  ))}
                </ul>
              )}
            </dd>
          </dl>
        </>
      ) : null}
    </div>
  );
}

/** The explainer tab. */
export function ExplainView() {
  const sources = usePoll<Source[]>('/api/sources', 10_000);
  const [source, setSource] = useState('');
  const [method, setMethod] = useState('GET');
  const [url, setUrl] = useState('http://reviews:9080/reviews/0');
  const [headers, setHeaders] = useState('');
  const [answer, setAnswer] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const list = sources.data ?? [];
  const chosen = source || list.find((s) => !s.gateway)?.id || list[0]?.id || '';
  const submit = (ev: Event): void => {
    ev.preventDefault();
    let u: URL;
    try {
      u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`);
    } catch {
      setError(`${url} is not a URL (e.g. http://reviews:9080/reviews/0)`);
      return;
    }
    const q = new URLSearchParams({
      source: chosen,
      method,
      host: u.host,
      port: u.port || (u.protocol === 'https:' ? '443' : '80'),
      path: u.pathname + u.search,
    });
    for (const line of headers.split('\n')) if (line.trim()) q.append('header', line.trim());
    setError(null);
    getJson<Explanation>(`/api/explain?${q.toString()}`).then(
      (e) => setAnswer(e),
      (e: Error) => {
        setAnswer(null);
        setError(e.message);
      },
    );
  };
  return (
    <section aria-labelledby="explain-title">
      <div class="toolbar">
        <h2 id="explain-title">Route explainer</h2>
        <span class="status">
          computed by the control plane from the config it pushes to the source proxy
        </span>
      </div>
      <form class="explain" onSubmit={submit}>
        <label>
          Source
          <select
            name="source"
            value={chosen}
            onChange={(e) => setSource((e.target as HTMLSelectElement).value)}
          >
            {list.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Method
          <select
            name="method"
            value={method}
            onChange={(e) => setMethod((e.target as HTMLSelectElement).value)}
          >
            {['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label class="grow">
          URL
          <input name="url" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
        </label>
        <label class="grow">
          <span>
            Headers (<code>name: value</code> per line)
          </span>
          <textarea
            name="headers"
            rows={2}
            value={headers}
            onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <button type="submit">Explain</button>
      </form>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {answer ? <Answer e={answer} /> : null}
    </section>
  );
}
