// DestinationRule localityLbSetting: locality strings, distribute weights, failover, and overlapping localities.
import {
  obj,
  str,
  nonEmpty,
  uint32,
  bool,
  list,
  record,
  child,
  type At,
  type Checker,
  type Validator,
} from '../../schema.js';
import type { LocalityLoadBalancerSetting } from './destination-rule.js';

/** Locality strings `region[/zone[/subzone]]`, a single trailing `*` wildcard allowed. */
function checkLocality(l: string, at: At, c: Checker): void {
  const stars = l.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !l.endsWith('*')))
    c.error(at, `locality ${l}: at most one "*" wildcard, at the end`);
  else if (l.split('/', 3).some((p) => p === '') || l.split('/').length > 3)
    c.error(at, `locality ${l} must be region[/zone[/subzone]] without empty parts`);
}

/** True when every locality `b` names is also named by `a` (`a/*` and `a` cover `a/b`; `*` covers all). */
export function localityCovers(a: string, b: string): boolean {
  const pa = a.split('/', 3);
  const pb = b.split('/', 3);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? '*';
    if (x === '*') return true;
    if ((pb[i] ?? '*') !== x) return false;
  }
  return true;
}

/**
 * Istio's overlap rule: a `distribute` entry's `from` must not be covered by an earlier one (the earlier
 * entry would take its proxies), and the localities of one `to` map must not overlap each other.
 */
function checkOverlaps(lb: LocalityLoadBalancerSetting, at: At, c: Checker): void {
  const dist = lb.distribute;
  if (!dist) return;
  const distAt = child(at, lb, 'distribute');
  dist.forEach((d, i) => {
    const dAt = child(distAt, dist, i);
    const prev = dist.slice(0, i).findIndex((e) => e.from && d.from && localityCovers(e.from, d.from));
    if (prev >= 0)
      c.error(
        child(dAt, d, 'from'),
        `locality ${d.from} overlaps distribute[${prev}].from ${dist[prev].from}, which comes first and takes its proxies`,
      );
    const to = Object.keys(d.to ?? {});
    to.forEach((l, j) => {
      const other = to.slice(0, j).find((o) => localityCovers(o, l) || localityCovers(l, o));
      if (other !== undefined)
        c.error(child(child(dAt, d, 'to'), d.to!, l), `locality ${l} overlaps ${other} in the same "to" map`);
    });
  });
}

const TOPOLOGY_LABELS = [
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.istio.io/subzone',
];

function failoverRules(lb: LocalityLoadBalancerSetting, at: At, c: Checker): void {
  if (lb.failover?.length)
    lb.failoverPriority?.forEach((p, i) => {
      if (TOPOLOGY_LABELS.includes(p))
        c.error(
          child(child(at, lb, 'failoverPriority'), lb.failoverPriority!, i),
          `can not set 'failover' and topology label '${p}' in 'failoverPriority'`,
        );
    });
  lb.failover?.forEach((f, i) => {
    const a = child(child(at, lb, 'failover'), lb.failover!, i);
    if (f.from === f.to) c.error(a, 'locality failover must name different regions');
    else if (`${f.from ?? ''}${f.to ?? ''}`.includes('/'))
      c.error(a, 'locality failover takes regions only (no "/")');
    else if (`${f.from ?? ''}${f.to ?? ''}`.includes('*'))
      c.error(a, 'locality failover regions must not contain "*"');
  });
}

/** Locality-weighted load balancing: distribute weights or failover, not both. */
export const localityLb = (): Validator<LocalityLoadBalancerSetting> =>
  obj<LocalityLoadBalancerSetting>(
    {
      distribute: list(obj({ from: str(checkLocality), to: record(uint32(), checkLocality) })),
      failover: list(obj({ from: str(), to: str() })),
      failoverPriority: list(nonEmpty()),
      enabled: bool(),
    },
    {
      rules: (lb, at, c) => {
        if (lb.distribute?.length && lb.failover?.length) {
          c.error(at, "can not simultaneously specify 'distribute' and 'failover'");
          return;
        }
        failoverRules(lb, at, c);
        lb.distribute?.forEach((d, i) => {
          const total = Object.values(d.to ?? {}).reduce((s, w) => s + w, 0);
          const dAt = child(child(at, lb, 'distribute'), lb.distribute!, i);
          if (Object.values(d.to ?? {}).some((w) => w < 1 || w > 100))
            c.error(child(dAt, d, 'to'), 'locality weights must be between 1 and 100');
          else if (total !== 100)
            c.error(child(dAt, d, 'to'), `locality weights must sum to 100, got ${total}`);
        });
        checkOverlaps(lb, at, c);
      },
    },
  );
