// Test helpers for pilot: load YAML into a push context, make proxies, and simulate which route and
// cluster a call picks in generated route configurations (Istio's simulation tests, in small).
import assert from 'node:assert/strict';
import { loadText } from '../api/load.js';
import { formatDiagnostic } from '../api/diagnostic.js';
import { buildSnapshot } from '../config/snapshot.js';
import { encodeResource, decodeResource, type CanonicalObject } from '../xds/protos.js';
import { structFromJson } from '../xds/struct.js';
import { buildPushContext, type PushContext } from './push-context.js';
import { Generator, type ProxyRef } from './generator.js';

/** Loads YAML documents (any errors fail the test) into a push context. */
export function pushFromYaml(...texts: string[]): PushContext {
  const resources = texts.flatMap((t, i) => {
    const r = loadText(t, `test-${i}.yaml`);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 0, errors.map(formatDiagnostic).join('\n'));
    return r.resources;
  });
  return buildPushContext(buildSnapshot(1, resources));
}

/** A generator over a fixed push context. */
export function generatorFor(push: PushContext): Generator {
  return new Generator(() => push);
}

/** A proxy as the ADS server would describe it. */
export function proxyRef(opts: {
  type?: 'sidecar' | 'router';
  ip: string;
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  metadata?: Record<string, unknown>;
}): ProxyRef {
  const ns = opts.namespace ?? 'default';
  const metadata: Record<string, unknown> = {
    NAMESPACE: ns,
    INSTANCE_IPS: opts.ip,
    ...(opts.labels ? { LABELS: opts.labels } : {}),
    ...opts.metadata,
  };
  const id = `${opts.type ?? 'sidecar'}~${opts.ip}~${opts.name}.${ns}~${ns}.svc.cluster.local`;
  return { id, metadata, node: { id, metadata: structFromJson(metadata) } };
}

/** Encodes with the real Envoy protos and decodes back: proves validity and returns canonical form. */
export function roundTrip(typeUrl: string, r: CanonicalObject): CanonicalObject {
  return decodeResource(encodeResource(typeUrl, r));
}

/** A simulated request. */
export interface Call {
  /** Host header (authority), with or without port. */
  host: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

/** What the route configuration does with a call. */
export interface Pick {
  virtualHost: string;
  route: CanonicalObject;
  /** Single cluster, or weighted clusters as name → weight. */
  cluster?: string;
  weights?: Record<string, number>;
  directResponse?: { status: number };
  redirect?: CanonicalObject;
}

function domainMatches(domain: string, host: string): number {
  if (domain === host) return 4;
  if (domain.startsWith('*') && host.endsWith(domain.slice(1))) return 3;
  if (domain.endsWith('*') && host.startsWith(domain.slice(0, -1))) return 2;
  if (domain === '*') return 1;
  return 0;
}

function stringMatch(m: CanonicalObject, v: string | undefined): boolean {
  if (v === undefined) return false;
  const ic = m.ignoreCase === true;
  const val = ic ? v.toLowerCase() : v;
  if (m.exact !== undefined) return val === (ic ? String(m.exact).toLowerCase() : m.exact);
  if (m.prefix !== undefined) return val.startsWith(ic ? String(m.prefix).toLowerCase() : String(m.prefix));
  if (m.suffix !== undefined) return val.endsWith(String(m.suffix));
  if (m.safeRegex) return new RegExp(`^(?:${(m.safeRegex as { regex: string }).regex})$`).test(v);
  return true;
}

function routeMatches(match: CanonicalObject, call: Call, headers: Record<string, string>): boolean {
  const [path, query = ''] = call.path.split('?');
  const caseSensitive = (match.caseSensitive as { value?: boolean } | undefined)?.value !== false;
  const p = caseSensitive ? path : path.toLowerCase();
  const cmp = (s: unknown): string => (caseSensitive ? String(s) : String(s).toLowerCase());
  if (match.prefix !== undefined && !p.startsWith(cmp(match.prefix))) return false;
  if (match.path !== undefined && p !== cmp(match.path)) return false;
  if (match.safeRegex && !new RegExp(`^(?:${(match.safeRegex as { regex: string }).regex})$`).test(path))
    return false;
  for (const h of (match.headers as CanonicalObject[] | undefined) ?? []) {
    const v = headers[String(h.name)];
    let ok = h.presentMatch
      ? v !== undefined
      : h.stringMatch
        ? stringMatch(h.stringMatch as CanonicalObject, v)
        : v !== undefined;
    if (h.invertMatch) ok = !ok;
    if (!ok) return false;
  }
  const qs = new URLSearchParams(query);
  for (const q of (match.queryParameters as CanonicalObject[] | undefined) ?? []) {
    const v = qs.get(String(q.name)) ?? undefined;
    if (q.presentMatch ? v === undefined : !stringMatch(q.stringMatch as CanonicalObject, v)) return false;
  }
  return true;
}

/** Picks the virtual host and route for a call, as Envoy would; null = 404 (no route). */
export function simulate(routeConfig: CanonicalObject, call: Call): Pick | null {
  let best: CanonicalObject | null = null;
  let score = 0;
  for (const vh of (routeConfig.virtualHosts as CanonicalObject[]) ?? []) {
    for (const d of vh.domains as string[]) {
      const s = domainMatches(d, call.host);
      if (s > score) {
        score = s;
        best = vh;
      }
    }
  }
  if (!best) return null;
  const headers: Record<string, string> = {
    ':authority': call.host,
    ':method': call.method ?? 'GET',
    ':path': call.path,
  };
  for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
  for (const r of (best.routes as CanonicalObject[]) ?? []) {
    if (!routeMatches(r.match as CanonicalObject, call, headers)) continue;
    const pick: Pick = { virtualHost: String(best.name), route: r };
    const action = r.route as CanonicalObject | undefined;
    if (action?.cluster) pick.cluster = String(action.cluster);
    if (action?.weightedClusters) {
      pick.weights = {};
      for (const c of (action.weightedClusters as { clusters: CanonicalObject[] }).clusters)
        pick.weights[String(c.name)] = (c.weight as { value: number }).value;
    }
    if (r.directResponse) pick.directResponse = r.directResponse as { status: number };
    if (r.redirect) pick.redirect = r.redirect as CanonicalObject;
    return pick;
  }
  return null;
}
