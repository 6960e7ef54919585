// Field checks shared by the networking kinds: percentages, durations, exportTo, gateways, protocols, selectors.
import {
  obj,
  num,
  duration,
  child,
  isPlainObject,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import { parseDuration } from '../../duration.js';
import { fqdnError, isDns1123Label } from './hosts.js';
import type { Percent } from './virtual-service.js';

/** A Percent `{value}`: 0, or between 0.0001 and 100 (Envoy's smallest fraction is a millionth). */
export const percent = (): Validator<Percent> =>
  obj<Percent>(
    { value: num() },
    {
      rules: (p, at, c) => {
        const v = p.value ?? 0;
        if (v < 0 || v > 100 || (v > 0 && v < 0.0001))
          c.error(child(at, p, 'value'), `percentage ${v} is neither 0 nor between 0.0001 and 100`);
      },
    },
  );

/** A duration of at least 1ms with millisecond precision, as Istio requires for every duration field. */
export function msDuration(minMs = 1): Validator<string> {
  const base = duration(minMs);
  return (v, at, c) => {
    const s = base(v, at, c);
    if (s === undefined) return undefined;
    const ms = parseDuration(s);
    if (ms !== undefined && Math.abs(ms - Math.round(ms)) > 1e-6)
      c.error(at, `only durations to millisecond precision are supported, got ${s}`);
    return s;
  };
}

/** The namespace of the document a spec belongs to (`at.holder` of a spec is the raw document). */
export function namespaceOf(at: At): string | undefined {
  const doc = at.holder;
  if (!isPlainObject(doc) || !isPlainObject(doc.metadata)) return undefined;
  const ns = doc.metadata.namespace;
  return typeof ns === 'string' ? ns : undefined;
}

/** The name of the document a spec belongs to. */
export function nameOf(at: At): string | undefined {
  const doc = at.holder;
  if (!isPlainObject(doc) || !isPlainObject(doc.metadata)) return undefined;
  const n = doc.metadata.name;
  return typeof n === 'string' ? n : undefined;
}

/** The At of `metadata.name` of the document a spec belongs to. */
export function metadataNameAt(at: At): At {
  const doc = at.holder;
  const meta = isPlainObject(doc) && isPlainObject(doc.metadata) ? doc.metadata : undefined;
  return { path: 'metadata.name', holder: meta, key: 'name' };
}

/**
 * exportTo: `.` (own namespace), `*` (all), namespace names, and for ServiceEntry `~` (nobody); no
 * duplicates, `*` and `~` alone.
 */
export function checkExportTo(
  list: readonly string[],
  at: At,
  c: Checker,
  namespace: string | undefined,
  isServiceEntry: boolean,
): Set<string> {
  const seen = new Map<string, string>();
  list.forEach((e, i) => {
    const a = child(at, list, i);
    const key = e === '.' && namespace ? namespace : e;
    const prev = seen.get(key);
    if (prev !== undefined) {
      c.error(
        a,
        prev !== e
          ? `duplicate entries in exportTo: "." and the current namespace ${namespace} are the same`
          : `duplicate entries in exportTo: ${JSON.stringify(e)}`,
      );
      return;
    }
    if (e === '~' && !isServiceEntry) c.error(a, 'exportTo "~" (nobody) is only allowed for ServiceEntry');
    else if (e !== '.' && e !== '*' && e !== '~' && !isDns1123Label(e))
      c.error(a, `must be ".", "*" or a namespace name, got ${JSON.stringify(e)}`);
    seen.set(key, e);
  });
  if (list.length > 1 && seen.has('*')) c.error(at, 'cannot have both public (*) and other exportTo values');
  if (list.length > 1 && seen.has('~')) c.error(at, 'cannot export to nobody (~) and someone');
  return new Set(seen.keys());
}

/** Checks gateway references: `namespace/name`, `mesh`, or a bare (legacy `name.namespace`) name. */
export function checkGatewayNames(list: readonly string[], at: At, c: Checker): void {
  list.forEach((g, i) => {
    const a = child(at, list, i);
    const slash = g.indexOf('/');
    if (slash < 0) {
      if (g.includes('.')) {
        const [name, ns] = g.split('.');
        c.warn(
          a,
          `legacy gateway name format ${JSON.stringify(g)}; prefer <namespace>/<name>: "${ns}/${name}"`,
        );
      }
      const e = fqdnError(g);
      if (e) c.error(a, `${e}; expected "<namespace>/<name>", "<name>" or "mesh"`);
      return;
    }
    const ns = g.slice(0, slash);
    const name = g.slice(slash + 1);
    if (!ns || !name) c.error(a, `namespace and gateway name cannot be empty in ${JSON.stringify(g)}`);
    else if (!isDns1123Label(ns))
      c.error(a, `invalid namespace ${JSON.stringify(ns)} in gateway ${JSON.stringify(g)}`);
    else if (!isDns1123Label(name))
      c.error(a, `invalid gateway name ${JSON.stringify(name)} in ${JSON.stringify(g)}`);
  });
}

/** Protocols Istio knows (case-insensitive), by class. */
const HTTP_PROTOCOLS = ['http', 'http2', 'grpc', 'grpc-web', 'http_proxy'];
const TLS_PROTOCOLS = ['https', 'tls'];
const OTHER_PROTOCOLS = ['tcp', 'udp', 'mongo', 'redis', 'mysql'];

/** True for a protocol name Istio supports. */
export const isKnownProtocol = (p: string): boolean =>
  [...HTTP_PROTOCOLS, ...TLS_PROTOCOLS, ...OTHER_PROTOCOLS].includes(p.toLowerCase());
/** HTTP-family protocols (HTTP, HTTP2, GRPC, GRPC-WEB, HTTP_PROXY). */
export const isHttpProtocol = (p: string): boolean => HTTP_PROTOCOLS.includes(p.toLowerCase());
/** Protocols that carry TLS (HTTPS, TLS). */
export const isTlsProtocol = (p: string): boolean => TLS_PROTOCOLS.includes(p.toLowerCase());

/** Reports unless `p` is a known protocol name; empty means "sniffed". */
export function checkProtocol(p: string, at: At, c: Checker): void {
  if (p !== '' && !isKnownProtocol(p))
    c.error(
      at,
      `unsupported protocol ${JSON.stringify(p)}; expected HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, UDP, MONGO, REDIS or MYSQL`,
    );
}

/** Reports unless `name` is a DNS-1123 label (port names). */
export function checkPortName(name: string, at: At, c: Checker): void {
  if (!isDns1123Label(name))
    c.error(
      at,
      `invalid port name ${JSON.stringify(name)}: expected a lower-case DNS label (letters, digits, "-")`,
    );
}

/** Selector labels: no empty keys, no wildcards; an empty selector only warns (it selects everything). */
export function checkSelectorLabels(
  labels: Record<string, string> | undefined,
  at: At,
  field: string,
  c: Checker,
): void {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) {
    c.warn(at, `workload selector without ${field}: applies to every workload in the namespace`);
    return;
  }
  for (const [k, v] of entries) {
    if (k.includes('*') || v.includes('*'))
      c.error(child(at, labels!, k), `wildcard is not supported in selector: "${k}=${v}"`);
  }
}

/** Unix socket address after `unix://`: an absolute path not ending in "/", or an abstract name `@...`. */
export function unixPathError(path: string): string | null {
  if (path.length === 0) return 'unix address must not be empty';
  if (path.startsWith('@')) return null;
  if (!path.startsWith('/') || path.endsWith('/')) return `${path} is not an absolute path to a file`;
  return null;
}
