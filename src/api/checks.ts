// Field checks shared by many kinds: host names, labels, ports, regexes, addresses.
import { RE2JS } from 're2js';
import { isIP } from 'node:net';
import type { At, Checker } from './schema.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_ANYCASE = /^[A-Za-z0-9]([-A-Za-z0-9_]*[A-Za-z0-9])?$/;

/** Kubernetes DNS-1123 label (namespace names, port names of Services). */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Kubernetes DNS-1123 subdomain (object names). */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => DNS1123_LABEL.test(l));
}

/** A fully qualified or short DNS name, no wildcard. */
export function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false;
  const t = s.endsWith('.') ? s.slice(0, -1) : s;
  return t.split('.').every((l) => l.length > 0 && l.length <= 63 && DNS_LABEL_ANYCASE.test(l));
}

/** A DNS name that may start with `*.` or be `*` alone (Istio's wildcard host form). */
export function isWildcardDnsName(s: string): boolean {
  if (s === '*') return true;
  if (s.startsWith('*.')) return isDnsName(s.slice(2));
  if (s.startsWith('*')) return isDnsName(s.slice(1)); // Istio accepts "*bar.com"
  return isDnsName(s);
}

/** Reports unless `s` is a valid host: DNS name, optional wildcard prefix; IPs only if allowed. */
export function checkHost(
  s: string,
  at: At,
  c: Checker,
  opts: { wildcard?: boolean; ip?: boolean } = {},
): void {
  if (opts.ip && isIP(s)) return;
  const ok = opts.wildcard === false ? isDnsName(s) : isWildcardDnsName(s);
  if (!ok) {
    const what =
      opts.wildcard === false ? 'a DNS name' : 'a DNS name, optionally with a "*." wildcard prefix';
    c.error(at, `must be ${what}${opts.ip ? ' or an IP address' : ''}, got ${JSON.stringify(s)}`);
  }
}

/** Reports unless `s` is `namespace/host` as Sidecar egress and Gateway server hosts need. */
export function checkNamespacedHost(s: string, at: At, c: Checker): void {
  const i = s.indexOf('/');
  if (i < 0) {
    c.error(
      at,
      `must be "namespace/dnsName" (e.g. "./reviews.default.svc.cluster.local" or "*/*"), got ${JSON.stringify(s)}`,
    );
    return;
  }
  const ns = s.slice(0, i);
  const host = s.slice(i + 1);
  if (ns !== '*' && ns !== '.' && ns !== '~' && !isDns1123Label(ns)) {
    c.error(at, `namespace part must be "*", ".", "~" or a namespace name, got ${JSON.stringify(ns)}`);
  }
  if (host !== '*' && !isWildcardDnsName(host)) {
    c.error(
      at,
      `host part must be "*" or a DNS name with an optional "*." prefix, got ${JSON.stringify(host)}`,
    );
  }
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Kubernetes label key: optional DNS-subdomain prefix + "/" + name of at most 63 characters. */
export function checkLabelKey(k: string, at: At, c: Checker): void {
  const i = k.lastIndexOf('/');
  const prefix = i >= 0 ? k.slice(0, i) : '';
  const name = i >= 0 ? k.slice(i + 1) : k;
  if (
    (i >= 0 && !isDns1123Subdomain(prefix)) ||
    name.length === 0 ||
    name.length > 63 ||
    !LABEL_NAME.test(name)
  ) {
    c.error(
      at,
      `invalid label key ${JSON.stringify(k)}: expected an optional DNS prefix and "/" then a name of letters, digits, "-", "_", "." (at most 63)`,
    );
  }
}

/** Kubernetes label value: at most 63 characters of letters, digits, "-", "_", ".". */
export function checkLabelValue(v: string, at: At, c: Checker): void {
  if (v.length > 63 || !LABEL_VALUE.test(v)) {
    c.error(
      at,
      `invalid label value ${JSON.stringify(v)}: at most 63 letters, digits, "-", "_", ".", starting and ending alphanumeric`,
    );
  }
}

/** A TCP/UDP port number 1–65535. */
export function checkPort(n: number, at: At, c: Checker): void {
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    c.error(at, `must be a port number between 1 and 65535, got ${n}`);
}

const regexCache = new Map<string, string | null>();

/** The RE2 syntax error of `re`, or null when it compiles (as Envoy's safe_regex would). */
export function re2Error(re: string): string | null {
  let r = regexCache.get(re);
  if (r === undefined) {
    try {
      RE2JS.compile(re);
      r = null;
    } catch (err) {
      r = (err as Error).message;
    }
    if (regexCache.size < 10000) regexCache.set(re, r);
  }
  return r;
}

/** Reports unless `re` is valid RE2 syntax. */
export function checkRegex(re: string, at: At, c: Checker): void {
  const e = re2Error(re);
  if (e !== null)
    c.error(at, `must be an RE2 regular expression (Envoy's syntax: no lookaround or backreferences): ${e}`);
}

/** An IPv4/IPv6 address. */
export function checkIp(s: string, at: At, c: Checker): void {
  if (isIP(s) === 0) c.error(at, `must be an IP address, got ${JSON.stringify(s)}`);
}

/** An IP address or CIDR block (`10.0.0.0/8`). */
export function isCidrOrIp(s: string): boolean {
  const i = s.indexOf('/');
  if (i < 0) return isIP(s) !== 0;
  const ip = s.slice(0, i);
  const bits = s.slice(i + 1);
  const fam = isIP(ip);
  if (fam === 0 || !/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  return fam === 4 ? n <= 32 : n <= 128;
}

/** Reports unless `s` is an IP or CIDR block. */
export function checkCidr(s: string, at: At, c: Checker): void {
  if (!isCidrOrIp(s))
    c.error(at, `must be an IP address or CIDR block such as "10.0.0.0/16", got ${JSON.stringify(s)}`);
}
