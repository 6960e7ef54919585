// Test helpers for load balancer tests: hosts, host sets, pick counting and statistical bounds.
import { Host, type HealthStatus } from '../host.js';
import { HostSet } from '../host-set.js';
import type { LbContext, LoadBalancer } from './load-balancer.js';

/** Options of one test host. */
export interface TestHostOpts {
  weight?: number;
  priority?: number;
  zone?: string;
  localityWeight?: number;
  health?: HealthStatus;
}

/** A host 10.0.0.<i>:8080 (no sockets are ever opened by LB tests). */
export function testHost(i: number, o: TestHostOpts = {}): Host {
  return new Host(
    `10.0.${i >> 8}.${i & 255}`,
    8080,
    '',
    o.weight ?? 1,
    o.health ?? 'HEALTHY',
    o.priority ?? 0,
    { region: 'r', zone: o.zone ?? 'z', subZone: '' },
    null,
    o.localityWeight ?? 0,
  );
}

/** `n` equal hosts. */
export function testHosts(n: number, o: TestHostOpts = {}): Host[] {
  return Array.from({ length: n }, (_, i) => testHost(i + 1, o));
}

/** A host set as a cluster builds it (panic threshold 50 unless given). */
export function setOf(hosts: Host[], panic = 50): HostSet {
  return new HostSet(
    [...hosts].sort((a, b) => a.priority - b.priority),
    panic,
  );
}

/** Picks `n` times with a fresh context per pick (`ctx(i)` or a plain one) and counts picks per host. */
export function countPicks(lb: LoadBalancer, n: number, ctx?: (i: number) => LbContext): Map<Host, number> {
  const m = new Map<Host, number>();
  const plain: LbContext = { tried: null };
  for (let i = 0; i < n; i++) {
    const h = lb.pick(ctx ? ctx(i) : plain);
    if (h === null) throw new Error('no host picked');
    m.set(h, (m.get(h) ?? 0) + 1);
  }
  return m;
}

/** Asserts `count` is within 4 standard deviations of a Binomial(n, p) mean; returns the z-score. */
export function withinBinomial(count: number, n: number, p: number): number {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  const z = sd === 0 ? (count === mean ? 0 : Infinity) : (count - mean) / sd;
  if (Math.abs(z) > 4)
    throw new Error(
      `count ${count} of ${n} is ${z.toFixed(2)} sigma from the expected ${mean.toFixed(1)} (p=${p})`,
    );
  return z;
}
