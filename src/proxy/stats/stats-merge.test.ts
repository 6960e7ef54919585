// Merging worker stats: traffic counters, gauges and histograms add up; configuration stats do not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPrometheus } from './prometheus.js';
import { renderText } from './render.js';
import { mergeSnapshots, mergedByMax, retiredPart, snapshotStats } from './stats-merge.js';
import { StatsStore } from './stats-store.js';

/** One worker's store after it served `rq` requests with `active` open connections. */
function worker(rq: number, active: number, times: number[]): StatsStore {
  const s = new StatsStore();
  const c = s.scope('cluster.outbound|80||a.default.svc.cluster.local.', 'cluster.', [
    ['envoy_cluster_name', 'outbound|80||a.default.svc.cluster.local'],
  ]);
  c.counter('upstream_rq_total').add(rq);
  c.gauge('upstream_cx_active').set(active);
  c.gauge('membership_total').set(3);
  c.counter('membership_change').add(2);
  c.gauge('circuit_breakers.default.rq_open').set(active > 1 ? 1 : 0);
  s.gauge('server.live', 'server.live', []).set(1);
  s.counter('cds.update_success', 'cds.update_success', []).add(4);
  const h = c.histogram('upstream_rq_time');
  for (const t of times) h.record(t);
  return s;
}

describe('stats merge over workers', () => {
  const a = worker(30, 2, [3, 40]);
  const b = worker(12, 1, [0.2]);
  const merged = mergeSnapshots([snapshotStats(a), snapshotStats(b)]);
  const text = renderText(merged, { filter: null, usedOnly: false });

  it('sums counters and traffic gauges', () => {
    assert.match(text, /^cluster\.outbound\|80\|\|a\.default\.svc\.cluster\.local\.upstream_rq_total: 42$/m);
    assert.match(text, /\.upstream_cx_active: 3$/m);
  });

  it('takes one worker’s value for configuration stats and flags', () => {
    assert.match(text, /\.membership_total: 3$/m);
    assert.match(text, /\.membership_change: 2$/m);
    assert.match(text, /^server\.live: 1$/m);
    assert.match(text, /^cds\.update_success: 4$/m);
    assert.match(text, /\.circuit_breakers\.default\.rq_open: 1$/m);
    assert.equal(mergedByMax('http.inbound_0.0.0.0_9080.downstream_cx_active'), false);
  });

  it('merges histogram buckets and keeps the Prometheus names and labels', async () => {
    const prom = await renderPrometheus(merged);
    const lbl = 'envoy_cluster_name="outbound|80||a.default.svc.cluster.local"';
    assert.match(prom, new RegExp(`^envoy_cluster_upstream_rq_total\\{${esc(lbl)}\\} 42$`, 'm'));
    assert.match(prom, new RegExp(`^envoy_cluster_upstream_rq_time_count\\{${esc(lbl)}\\} 3$`, 'm'));
    assert.match(
      prom,
      new RegExp(`^envoy_cluster_upstream_rq_time_bucket\\{${esc(lbl)},le="0.5"\\} 1$`, 'm'),
    );
    assert.match(prom, new RegExp(`^envoy_cluster_upstream_rq_time_bucket\\{${esc(lbl)},le="5"\\} 2$`, 'm'));
    assert.match(prom, new RegExp(`^envoy_cluster_upstream_rq_time_sum\\{${esc(lbl)}\\} 43.2$`, 'm'));
  });

  it('a retired worker keeps its counters and histograms, not its gauges or config stats', () => {
    const r = retiredPart(snapshotStats(a));
    assert.equal(r.gauges.length, 0);
    assert.ok(r.counters.every(([name]) => !mergedByMax(name)));
    const after = renderText(mergeSnapshots([snapshotStats(b), r]), { filter: null, usedOnly: false });
    assert.match(after, /\.upstream_rq_total: 42$/m);
    assert.match(after, /\.upstream_cx_active: 1$/m);
    assert.match(after, /\.membership_change: 2$/m);
  });
});

function esc(s: string): string {
  return s.replace(/[|.*+?^${}()[\]\\]/g, '\\$&');
}
