// Kubernetes name and value formats the core kinds check (IANA_SVC_NAME, config keys, base64, ...).
import type { At, Checker } from '../../schema.js';
import { isDns1123Label, isDns1123Subdomain } from '../../checks.js';

/** IANA_SVC_NAME: 1–15 lower-case letters, digits and single "-", at least one letter. */
export function isIanaSvcName(s: string): boolean {
  return (
    s.length >= 1 &&
    s.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) &&
    !s.includes('--') &&
    /[a-z]/.test(s)
  );
}

/** Reports unless `s` is an IANA_SVC_NAME (container port names, named targetPorts). */
export function checkIanaSvcName(s: string, at: At, c: Checker): void {
  if (!isIanaSvcName(s))
    c.error(
      at,
      `must be a port name (IANA_SVC_NAME): at most 15 lower-case letters, digits and "-", with at least one letter, got ${JSON.stringify(s)}`,
    );
}

/** Reports unless `s` is a DNS-1123 label (Service port names, container names, hostnames). */
export function checkDnsLabel(s: string, at: At, c: Checker): void {
  if (!isDns1123Label(s))
    c.error(
      at,
      `must be a lower-case DNS-1123 label (at most 63 letters, digits and "-"), got ${JSON.stringify(s)}`,
    );
}

/** Reports unless `s` is a DNS-1123 subdomain (object names referenced from other objects). */
export function checkDnsSubdomain(s: string, at: At, c: Checker): void {
  if (!isDns1123Subdomain(s))
    c.error(at, `must be a lower-case DNS-1123 name (letters, digits, "-", "."), got ${JSON.stringify(s)}`);
}

const QUALIFIED = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Reports unless `s` is a qualified name such as "http" or "kubernetes.io/h2c" (appProtocol). */
export function checkQualifiedName(s: string, at: At, c: Checker): void {
  const i = s.indexOf('/');
  const prefix = i >= 0 ? s.slice(0, i) : '';
  const name = i >= 0 ? s.slice(i + 1) : s;
  if ((i >= 0 && !isDns1123Subdomain(prefix)) || name.length > 63 || !QUALIFIED.test(name))
    c.error(at, `must be a name like "http" or "kubernetes.io/h2c", got ${JSON.stringify(s)}`);
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** Reports unless `k` is a ConfigMap/Secret key: letters, digits, "-", "_", "." (at most 253). */
export function checkConfigKey(k: string, at: At, c: Checker): void {
  if (k.length > 253 || !CONFIG_KEY.test(k) || k === '.' || k === '..')
    c.error(at, `invalid key ${JSON.stringify(k)}: use letters, digits, "-", "_" and "." (at most 253)`);
}

/** True when `s` is standard padded base64 (line breaks allowed, as Kubernetes' JSON decoding skips them). */
export function isBase64(s: string): boolean {
  const t = s.replace(/[\r\n]/g, '');
  return t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t);
}

/** Reports unless `s` is base64 (Secret data, ConfigMap binaryData). */
export function checkBase64(s: string, at: At, c: Checker): void {
  if (!isBase64(s))
    c.error(
      at,
      'must be base64-encoded (standard alphabet with "=" padding); put plain text under stringData instead',
    );
}

/** Decoded size of a base64 value in bytes. */
export function base64Size(s: string): number {
  const t = s.replace(/[\r\n]/g, '');
  return (t.length / 4) * 3 - (t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0);
}

/** Reports unless `s` is an environment variable name: printable ASCII other than "=". */
export function checkEnvName(s: string, at: At, c: Checker): void {
  if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(s))
    c.error(at, `must be printable ASCII characters other than "=", got ${JSON.stringify(s)}`);
}
