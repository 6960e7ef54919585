// An Explanation as text for the terminal (`mizzen x explain` / `mizzen x describe`).
import type { Explanation, TriedRoute } from './explain.js';
import type { RuleSource } from './rule-source.js';
import type { AuthzExplain } from './authz-explain.js';
import { whereOfPolicy } from './authz-source.js';

/** `file:line:col` of a rule, or the resource name alone. */
export function whereOf(s: RuleSource | undefined): string {
  if (!s) return 'generated default route (no VirtualService)';
  const rule = `spec.http[${s.http}]${s.match >= 0 ? `.match[${s.match}]` : ''}`;
  const at = s.file ? ` at ${s.file}:${s.line ?? 0}:${s.col ?? 0}` : '';
  return `${s.resource} ${rule}${s.ruleName ? ` (${s.ruleName})` : ''}${at}`;
}

function triedLine(t: TriedRoute): string {
  const name = t.name ? ` ${t.name}` : '';
  return t.matched
    ? `  #${t.index}${name} MATCHED — ${whereOf(t.source)}`
    : `  #${t.index}${name} no: ${t.why ?? ''} — ${whereOf(t.source)}`;
}

/** The explanation as lines of text. */
export function formatExplanation(e: Explanation): string {
  const r = e.request;
  const hdrs = Object.entries(r.headers).map(([k, v]) => ` -H '${k}: ${v}'`);
  const out = [
    `Request:        ${r.method} http://${r.authority}${r.path}${hdrs.join('')}`,
    `From proxy:     ${e.proxy}`,
  ];
  if (e.listener) {
    const to = e.listener.routeConfig
      ? `route config ${e.listener.routeConfig}`
      : `tcp_proxy → ${e.listener.tcpCluster ?? ''}`;
    out.push(`Listener:       ${e.listener.name} (filter chain ${e.listener.filterChain}) → ${to}`);
  }
  if (e.virtualHost) out.push(`Virtual host:   ${e.virtualHost.name}`);
  if (e.tried.length > 0) out.push('Routes tried (first match wins):', ...e.tried.map(triedLine));
  const m = e.route;
  if (m) {
    out.push(`Rule:           ${whereOf(m.source)}`);
    if (m.action === 'route') {
      for (const c of m.clusters) {
        const subset = c.subset ? `subset ${c.subset}` : 'no subset';
        out.push(
          `Cluster:        ${c.name} (${c.percent}%, ${subset}, ${c.lbPolicy ?? '?'}, ${c.tls ?? '?'})`,
        );
        if (c.error) out.push(`                ${c.error}`);
        const eps = c.endpoints.map((x) => `${x.address}${x.health === 'HEALTHY' ? '' : ` ${x.health}`}`);
        out.push(`  Endpoints:    ${eps.length > 0 ? eps.join(', ') : 'none (503 UH)'}`);
      }
      out.push(`Timeout:        ${m.timeoutMs > 0 ? `${m.timeoutMs} ms` : 'none'}`);
      out.push(`Retries:        ${m.retries ? `${m.retries.numRetries} on ${m.retries.retryOn}` : 'none'}`);
    } else if (m.directResponse) out.push(`Direct response: ${m.directResponse.status}`);
    else if (m.redirect) out.push(`Redirect:       ${JSON.stringify(m.redirect)}`);
    if (m.fault?.delay) out.push(`Fault delay:    ${m.fault.delay}`);
    if (m.fault?.abort) out.push(`Fault abort:    ${m.fault.abort}`);
    for (const x of m.mirrors ?? []) out.push(`Mirror:         ${x.cluster} (${x.percent}%)`);
    if (m.rewrite?.prefix !== undefined) out.push(`Rewrite:        prefix → ${m.rewrite.prefix}`);
    if (m.rewrite?.host !== undefined) out.push(`Rewrite:        host → ${m.rewrite.host}`);
  }
  for (const a of e.authz ?? []) out.push(...authzLines(a));
  if (e.authzError) out.push(`Authorization:  not computed: ${e.authzError}`);
  if (e.error) out.push(`Result:         ${e.error}`);
  return out.join('\n');
}

const MARK = { yes: 'matches', no: 'no match', token: 'depends on the token' } as const;

/** The authorization decision at one destination, with every enforced and dry-run policy. */
export function authzLines(a: AuthzExplain): string[] {
  const via =
    a.at === 'gateway'
      ? 'the gateway itself, client taken as 127.0.0.1'
      : a.principal
        ? `mutual TLS as ${a.principal}`
        : 'plaintext';
  const out = [`Authorization:  ${a.decision} at ${a.workload} (${a.address}, ${via}) — ${a.summary}`];
  if (!a.connected)
    out.push(`                (config generated for its sidecar; no connected proxy at ${a.address})`);
  if (a.requestAuthentication)
    out.push(
      `  RequestAuthentication: verifies tokens of ${a.requestAuthentication.issuers.join(', ')} ` +
        `(an invalid token is rejected with 401; none passes) — ${a.requestAuthentication.resources.join('; ')}`,
    );
  for (const s of a.steps) {
    const kind = s.dryRun ? `${s.action} (dry-run)` : s.action;
    if (s.error) out.push(`  ${kind}: cannot compile: ${s.error}`);
    for (const p of s.policies)
      out.push(`  ${kind.padEnd(15)} ${MARK[p.match].padEnd(20)} ${whereOfPolicy(p.source)}`);
  }
  return out;
}
