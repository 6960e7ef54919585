// Turns a proxy's /config_dump and /clusters into istioctl-style tables for `mizzen proxy-config`.
import { structToJson } from '../../xds/struct.js';
import { X509Certificate } from 'node:crypto';
import { formatTable } from '../../local/table.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

/** The config of one `@type` (e.g. `ClustersConfigDump`) from a dump, or undefined. */
export function dumpPart(dump: any, adminType: string): any {
  const configs: any[] = Array.isArray(dump?.configs) ? dump.configs : [];
  return configs.find((c) => c?.['@type'] === ADMIN + adminType);
}

/** Every cluster (static then dynamic) of a dump. */
export function clustersOf(dump: any): any[] {
  const p = dumpPart(dump, 'ClustersConfigDump') ?? {};
  return [...(p.staticClusters ?? []), ...(p.dynamicActiveClusters ?? [])].map((e: any) => e.cluster);
}

/** Every listener (static then dynamic active) of a dump. */
export function listenersOf(dump: any): any[] {
  const p = dumpPart(dump, 'ListenersConfigDump') ?? {};
  return [
    ...(p.staticListeners ?? []).map((e: any) => e.listener),
    ...(p.dynamicListeners ?? []).flatMap((e: any) =>
      e.activeState?.listener ? [e.activeState.listener] : [],
    ),
  ];
}

/** Every route configuration (static then dynamic) of a dump. */
export function routeConfigsOf(dump: any): any[] {
  const p = dumpPart(dump, 'RoutesConfigDump') ?? {};
  return [...(p.staticRouteConfigs ?? []), ...(p.dynamicRouteConfigs ?? [])].map((e: any) => e.routeConfig);
}

/** `/apis/networking.istio.io/v1alpha3/namespaces/NS/virtual-service/NAME` → `NAME.NS`; else undefined. */
export function istioConfigRef(metadata: any): string | undefined {
  const istio = metadata?.filterMetadata?.istio;
  // The dump carries google.protobuf.Struct in canonical form ({fields: {config: {stringValue}}}).
  const path = istio?.fields ? structToJson(istio).config : istio?.config;
  if (typeof path !== 'string') return undefined;
  const m = /\/namespaces\/([^/]+)\/[^/]+\/([^/]+)$/.exec(path);
  return m ? `${m[2]}.${m[1]}` : path;
}

/** Parts of an Istio cluster name `direction|port|subset|fqdn`; non-Istio names are the FQDN. */
export function parseClusterName(name: string): {
  fqdn: string;
  port: string;
  subset: string;
  direction: string;
} {
  const parts = name.split('|');
  if (parts.length === 4 && (parts[0] === 'outbound' || parts[0] === 'inbound'))
    return { direction: parts[0], port: parts[1], subset: parts[2] || '-', fqdn: parts[3] || '-' };
  return { fqdn: name, port: '-', subset: '-', direction: '-' };
}

/** Rows of `proxy-config clusters`. */
export function clusterRows(dump: any): string[][] {
  return clustersOf(dump)
    .map((c) => {
      const n = parseClusterName(String(c.name ?? ''));
      const type = c.type ?? (c.clusterType ? 'CUSTOM' : 'EDS');
      return [n.fqdn, n.port, n.subset, n.direction, type, istioConfigRef(c.metadata) ?? ''];
    })
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]) || a[2].localeCompare(b[2]));
}

/** `proxy-config clusters` table. */
export function formatClusters(dump: any): string {
  return formatTable(
    ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'],
    clusterRows(dump),
  );
}

function chainMatch(m: any): string {
  if (!m) return 'ALL';
  const out: string[] = [];
  if (m.destinationPort !== undefined) out.push(`Port: ${m.destinationPort?.value ?? m.destinationPort}`);
  if (Array.isArray(m.prefixRanges) && m.prefixRanges.length)
    out.push(
      `Addr: ${m.prefixRanges.map((r: any) => `${r.addressPrefix}/${r.prefixLen?.value ?? r.prefixLen ?? 32}`).join(',')}`,
    );
  if (Array.isArray(m.serverNames) && m.serverNames.length) out.push(`SNI: ${m.serverNames.join(',')}`);
  if (m.transportProtocol) out.push(`Transport: ${m.transportProtocol}`);
  if (Array.isArray(m.applicationProtocols) && m.applicationProtocols.length)
    out.push(`App: ${m.applicationProtocols.join(',')}`);
  return out.length ? out.join('; ') : 'ALL';
}

function chainDestination(chain: any): string {
  const out: string[] = [];
  for (const f of chain?.filters ?? []) {
    const tc = f.typedConfig ?? {};
    const t = String(tc['@type'] ?? '');
    if (f.name === 'envoy.filters.network.http_connection_manager' || t.endsWith('.HttpConnectionManager')) {
      if (tc.rds?.routeConfigName !== undefined) out.push(`Route: ${tc.rds.routeConfigName}`);
      else if (tc.routeConfig)
        out.push(`Inline Route: ${(tc.routeConfig.virtualHosts ?? []).map((v: any) => v.name).join(',')}`);
      else out.push('HTTP');
    } else if (f.name === 'envoy.filters.network.tcp_proxy' || t.endsWith('.TcpProxy')) {
      if (tc.cluster) out.push(`Cluster: ${tc.cluster}`);
      else if (tc.weightedClusters)
        out.push(
          `WeightedClusters: ${(tc.weightedClusters.clusters ?? []).map((c: any) => c.name).join(',')}`,
        );
    }
  }
  return out.length ? out.join('; ') : 'Non-HTTP/Non-TCP';
}

function addressOf(a: any): { address: string; port: string } {
  const s = a?.socketAddress;
  if (s) return { address: s.address ?? '', port: String(s.portValue ?? s.namedPort ?? '') };
  if (a?.pipe) return { address: a.pipe.path, port: '-' };
  return { address: '-', port: '-' };
}

/** Rows of `proxy-config listeners`: one per filter chain (and default chain). */
export function listenerRows(dump: any): string[][] {
  const rows: string[][] = [];
  for (const l of listenersOf(dump)) {
    const main = addressOf(l.address);
    const extra = (l.additionalAddresses ?? []).map((a: any) => addressOf(a.address).address);
    const addresses = [main.address, ...extra].join(',');
    const chains: any[] = [...(l.filterChains ?? [])];
    if (l.defaultFilterChain) chains.push({ ...l.defaultFilterChain, filterChainMatch: undefined });
    if (!chains.length) rows.push([addresses, main.port, 'ALL', '-']);
    for (const ch of chains)
      rows.push([addresses, main.port, chainMatch(ch.filterChainMatch), chainDestination(ch)]);
  }
  return rows;
}

/** `proxy-config listeners` table. */
export function formatListeners(dump: any): string {
  return formatTable(['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'], listenerRows(dump));
}

/** Domains like istioctl shows them: no `:port` duplicates, the two shortest then `+ N more...`. */
export function abbreviateDomains(domains: readonly string[]): string {
  const seen: string[] = [];
  for (const d of domains) {
    const host = d.replace(/:\d+$/, '');
    if (!seen.includes(host)) seen.push(host);
  }
  // The shortest names first (what a user types): `reviews, reviews.default + 2 more...`.
  seen.sort((a, b) => a.length - b.length);
  if (seen.length <= 2) return seen.join(', ');
  return `${seen.slice(0, 2).join(', ')} + ${seen.length - 2} more...`;
}

/** A route's match in istioctl's short form: `/*` for prefix /, `/foo*`, `/foo` exact, regex, headers. */
export function routeMatch(m: any): string {
  if (!m) return '/*';
  let path: string;
  if (m.path !== undefined) path = m.path;
  else if (m.prefix !== undefined) path = `${m.prefix || '/'}*`;
  else if (m.safeRegex?.regex !== undefined) path = `regex ${m.safeRegex.regex}`;
  else if (m.pathSeparatedPrefix !== undefined) path = `${m.pathSeparatedPrefix}/*`;
  else if (m.connectMatcher) path = 'CONNECT';
  else path = '/*';
  const hs = (m.headers ?? []).map((h: any) => {
    const sm = h.stringMatch ?? {};
    const v =
      h.exactMatch ??
      sm.exact ??
      (sm.prefix !== undefined ? `${sm.prefix}*` : undefined) ??
      (sm.safeRegex ? `~${sm.safeRegex.regex}` : undefined) ??
      (h.presentMatch ? '*' : '?');
    return `${h.invertMatch ? '!' : ''}${h.name}=${v}`;
  });
  return hs.length ? `${path} (${hs.join(',')})` : path;
}

/** Rows of `proxy-config routes`: one per route of every virtual host. */
export function routeRows(dump: any): string[][] {
  const rows: string[][] = [];
  for (const rc of routeConfigsOf(dump)) {
    const name = String(rc?.name ?? '');
    // A virtual host that came by VHDS is named `<route config>/<name>`: the table shows the name.
    const vhds = `${name}/`;
    for (const vh of rc?.virtualHosts ?? []) {
      const domains = abbreviateDomains(vh.domains ?? []);
      const routes: any[] = vh.routes ?? [];
      const vhName = String(vh.name ?? '');
      const shown = rc?.vhds && vhName.startsWith(vhds) ? vhName.slice(vhds.length) : vhName;
      if (!routes.length) rows.push([name, shown, domains, '-', '-']);
      for (const r of routes)
        rows.push([name, shown, domains, routeMatch(r.match), istioConfigRef(r.metadata) ?? '-']);
    }
  }
  return rows;
}

/** `proxy-config routes` table. */
export function formatRoutes(dump: any): string {
  return formatTable(['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], routeRows(dump));
}

/** Rows of `proxy-config endpoints` from /clusters?format=json. */
export function endpointRows(clusters: any): string[][] {
  const rows: string[][] = [];
  for (const c of clusters?.clusterStatuses ?? []) {
    for (const h of c.hostStatuses ?? []) {
      const a = addressOf(h.address);
      const hs = h.healthStatus ?? {};
      const status = hs.failedActiveHealthCheck ? 'UNHEALTHY' : (hs.edsHealthStatus ?? 'HEALTHY');
      rows.push([`${a.address}:${a.port}`, status, hs.failedOutlierCheck ? 'FAILED' : 'OK', c.name]);
    }
  }
  return rows.sort((x, y) => x[3].localeCompare(y[3]) || x[0].localeCompare(y[0]));
}

/** `proxy-config endpoints` table. */
export function formatEndpoints(clusters: any): string {
  return formatTable(['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], endpointRows(clusters));
}

function pemOf(ds: any): string | undefined {
  if (!ds) return undefined;
  if (typeof ds.inlineString === 'string') return ds.inlineString;
  if (typeof ds.inlineBytes === 'string') return Buffer.from(ds.inlineBytes, 'base64').toString('utf8');
  return undefined;
}

function certCells(pem: string | undefined, now: number): string[] {
  if (!pem) return ['false', '-', '-', '-'];
  try {
    const c = new X509Certificate(pem);
    const from = Date.parse(c.validFrom);
    const to = Date.parse(c.validTo);
    return [
      String(now >= from && now <= to),
      c.serialNumber.toLowerCase(),
      new Date(to).toISOString().replace('.000Z', 'Z'),
      new Date(from).toISOString().replace('.000Z', 'Z'),
    ];
  } catch {
    return ['false', '-', '-', '-'];
  }
}

/** Rows of `proxy-config secret`: one per certificate chain or CA bundle. */
export function secretRows(dump: any, now = Date.now()): string[][] {
  const p = dumpPart(dump, 'SecretsConfigDump') ?? {};
  const rows: string[][] = [];
  const all = [
    ...(p.staticSecrets ?? []).map((e: any) => ({ e, status: 'ACTIVE' })),
    ...(p.dynamicActiveSecrets ?? []).map((e: any) => ({ e, status: 'ACTIVE' })),
    ...(p.dynamicWarmingSecrets ?? []).map((e: any) => ({ e, status: 'WARMING' })),
  ];
  for (const { e, status } of all) {
    const s = e.secret ?? {};
    const name = e.name ?? s.name ?? '';
    if (s.tlsCertificate)
      rows.push([name, 'Cert Chain', status, ...certCells(pemOf(s.tlsCertificate.certificateChain), now)]);
    if (s.validationContext)
      rows.push([name, 'CA', status, ...certCells(pemOf(s.validationContext.trustedCa), now)]);
    if (!s.tlsCertificate && !s.validationContext) rows.push([name, 'Other', status, '-', '-', '-', '-']);
  }
  return rows;
}

/** `proxy-config secret` table. */
export function formatSecrets(dump: any, now = Date.now()): string {
  return formatTable(
    ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'],
    secretRows(dump, now),
  );
}

/** Each certificate of a certificate chain: identity (URI SAN, else subject), serial, validity, issuer. */
export function formatSecretChains(dump: any, now = Date.now()): string {
  const p = dumpPart(dump, 'SecretsConfigDump') ?? {};
  const out: string[] = [];
  for (const e of [...(p.staticSecrets ?? []), ...(p.dynamicActiveSecrets ?? [])]) {
    const s = e.secret ?? {};
    const pem = s.tlsCertificate ? pemOf(s.tlsCertificate.certificateChain) : undefined;
    if (!pem) continue;
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    out.push(`${e.name ?? s.name ?? ''}: chain of ${certs.length}`);
    certs.forEach((c, i) => {
      try {
        const x = new X509Certificate(c);
        const uri = (x.subjectAltName ?? '').split(', ').find((v) => v.startsWith('URI:'));
        const who = uri ? uri.slice(4) : x.subject.replace(/\n/g, ', ') || '(empty subject)';
        const [valid, serial, notAfter, notBefore] = certCells(c, now);
        out.push(
          `  [${i}] ${who}${x.ca ? ' (CA)' : ''}  serial ${serial}  valid ${notBefore} .. ${notAfter}${valid === 'true' ? '' : ' (NOT VALID NOW)'}  issuer ${x.issuer.replace(/\n/g, ', ')}`,
        );
      } catch {
        out.push(`  [${i}] (unreadable certificate)`);
      }
    });
  }
  return out.join('\n');
}
