// Reads Envoy RBAC permission/principal trees back into short Istio-like phrases for `mizzen x authz check`.

/** A StringMatcher as Istio wrote it: `x`, `x*`, `*x`, `*`, or `~regex`. */
function str(m: any): string {
  if (m?.exact !== undefined) return String(m.exact);
  if (m?.prefix !== undefined) return `${m.prefix}*`;
  if (m?.suffix !== undefined) return `*${m.suffix}`;
  if (m?.contains !== undefined) return `*${m.contains}*`;
  if (m?.safeRegex) return m.safeRegex.regex === '.+' ? '*' : `~${m.safeRegex.regex}`;
  return '""';
}

function cidr(c: any): string {
  return c?.prefixLen !== undefined
    ? `${c.addressPrefix}/${c.prefixLen?.value ?? c.prefixLen}`
    : String(c?.addressPrefix);
}

function header(h: any): string {
  const name =
    h.name === ':method' ? 'method' : h.name === ':authority' ? 'host' : `request.headers[${h.name}]`;
  if (h.presentMatch !== undefined) return `${name} present`;
  return `${name} ${str(h.stringMatch ?? { exact: h.exactMatch })}`;
}

function metadata(m: any): string {
  const path = ((m?.path ?? []) as any[]).map((p) => p.key);
  const key =
    m.filter === 'envoy.filters.http.jwt_authn' && path[0] === 'payload'
      ? `request.auth.claims${path
          .slice(1)
          .map((k: string) => `[${k}]`)
          .join('')}`
      : `${m.filter}${path.map((k: string) => `[${k}]`).join('')}`;
  return `${key} ${valueMatcher(m.value)}`;
}

function valueMatcher(v: any): string {
  if (v?.stringMatch) return str(v.stringMatch);
  if (v?.listMatch) return valueMatcher(v.listMatch.oneOf);
  if (v?.orMatch) {
    const parts = [...new Set(((v.orMatch.valueMatchers ?? []) as any[]).map(valueMatcher))];
    return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
  }
  if (v?.presentMatch !== undefined) return 'present';
  return JSON.stringify(v);
}

function join(parts: string[], op: string): string {
  const p = parts.filter((x) => x !== 'any');
  if (p.length === 0) return 'any';
  return p.length === 1 ? p[0] : `(${p.join(` ${op} `)})`;
}

/** A Permission as a phrase, e.g. `(method GET and path /admin*)`. */
export function describePermission(p: any): string {
  if (p?.any) return 'any';
  if (p?.andRules) return join(p.andRules.rules.map(describePermission), 'and');
  if (p?.orRules) return join(p.orRules.rules.map(describePermission), 'or');
  if (p?.notRule) return p.notRule.any ? 'nothing' : `not ${describePermission(p.notRule)}`;
  if (p?.header) return header(p.header);
  if (p?.urlPath) return `path ${str(p.urlPath.path)}`;
  if (p?.uriTemplate) return `path ${p.uriTemplate.typedConfig?.pathTemplate}`;
  if (p?.destinationPort !== undefined) return `port ${p.destinationPort}`;
  if (p?.destinationIp) return `destination.ip ${cidr(p.destinationIp)}`;
  if (p?.requestedServerName) return `connection.sni ${str(p.requestedServerName)}`;
  if (p?.metadata) return metadata(p.metadata);
  return JSON.stringify(p);
}

/** A Principal as a phrase, e.g. `principal spiffe://cluster.local/ns/default/sa/sleep`. */
export function describePrincipal(p: any): string {
  if (p?.any) return 'any';
  if (p?.andIds) return join(p.andIds.ids.map(describePrincipal), 'and');
  if (p?.orIds) return join(p.orIds.ids.map(describePrincipal), 'or');
  if (p?.notId) return p.notId.any ? 'nobody' : `not ${describePrincipal(p.notId)}`;
  if (p?.authenticated)
    return `principal ${str(p.authenticated.principalName ?? { safeRegex: { regex: '.+' } })}`;
  if (p?.directRemoteIp) return `source.ip ${cidr(p.directRemoteIp)}`;
  if (p?.remoteIp) return `remote.ip ${cidr(p.remoteIp)}`;
  if (p?.header) return header(p.header);
  if (p?.metadata) return metadata(p.metadata);
  return JSON.stringify(p);
}

/** One policy's effective rule: `from <principals> to <permissions>`. */
export function describePolicy(policy: any): string {
  const to = join(((policy?.permissions ?? []) as any[]).map(describePermission), 'or');
  const from = join(((policy?.principals ?? []) as any[]).map(describePrincipal), 'or');
  return `from ${from} to ${to}`;
}
