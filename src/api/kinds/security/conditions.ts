// AuthorizationPolicy `when` keys: the attributes Istio supports and how their values are checked.
import type { At, Checker } from '../../schema.js';
import { child } from '../../schema.js';
import { closest } from '../../suggest.js';
import { isCidrOrIp } from '../../checks.js';

/** Keys matched exactly. */
const EXACT_KEYS = [
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'request.auth.principal',
  'request.auth.audiences',
  'request.auth.presenter',
  'destination.ip',
  'destination.port',
  'connection.sni',
] as const;

/** Keys written `prefix[name]`. */
const MAP_KEYS = ['request.headers', 'request.auth.claims'] as const;

/** Written `experimental.envoy.filters.<filter>[<key>]`. */
const EXPERIMENTAL = 'experimental.envoy.filters.';

/** Every supported key as users write it, for suggestions. */
const ALL_KEYS = [...EXACT_KEYS, ...MAP_KEYS.map((k) => `${k}[]`), `${EXPERIMENTAL}*`];

/** Keys Istio's v1alpha1 API had, with what replaced them. */
const REMOVED: Record<string, string> = {
  'destination.namespace': 'is replaced by the policy namespace (metadata.namespace)',
  'destination.name': 'was only supported in v1alpha1',
  'destination.user': 'was only supported in v1alpha1',
};

function isMapKey(key: string): boolean {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2;
}

/** Reports unless `key` is one of Istio's supported condition keys (an unknown key invalidates the policy). */
export function checkConditionKey(key: string, at: At, c: Checker): void {
  if ((EXACT_KEYS as readonly string[]).includes(key)) return;
  for (const p of [...MAP_KEYS, EXPERIMENTAL]) {
    if (key.startsWith(p)) {
      if (!isMapKey(key))
        c.error(
          at,
          `bad key ${JSON.stringify(key)}: should have the form ${p === EXPERIMENTAL ? `${EXPERIMENTAL}<filter>[<name>]` : `${p}[<name>]`}`,
        );
      return;
    }
  }
  if (REMOVED[key]) {
    c.error(at, `attribute ${key} ${REMOVED[key]}`);
    return;
  }
  if (key.startsWith('destination.labels')) {
    c.error(at, `attribute ${key} is replaced by the workload selector (spec.selector)`);
    return;
  }
  const bracket = key.indexOf('[');
  const base = bracket >= 0 ? key.slice(0, bracket) + '[]' : key;
  let hint = closest(base, ALL_KEYS);
  if (hint?.endsWith('[]') && bracket >= 0) hint = hint.slice(0, -2) + key.slice(bracket);
  c.error(
    at,
    `unknown attribute ${JSON.stringify(key)}${hint ? `; did you mean "${hint}"?` : `; supported keys: ${ALL_KEYS.join(', ')}`}`,
  );
}

/** Checks values of keys that carry IPs or ports. */
export function checkConditionValues(key: string, values: readonly string[], at: At, c: Checker): void {
  values.forEach((v, i) => {
    const vAt = child(at, values, i);
    if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') {
      if (!isCidrOrIp(v))
        c.error(vAt, `${key} values must be IP addresses or CIDR blocks, got ${JSON.stringify(v)}`);
    } else if (key === 'destination.port') {
      const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
      if (!(n >= 0 && n <= 65535))
        c.error(vAt, `destination.port values must be port numbers 0–65535, got ${JSON.stringify(v)}`);
    }
  });
}
