// Istio's Prometheus metrics merging on a real local mesh (`mizzen up test/fixtures/app-metrics -d
// --with-prometheus`): a sidecar pod annotated prometheus.io/scrape, port and path is scraped at the
// sidecar's :15020/stats/prometheus, which answers the agent's, the proxy's and the app's own metrics;
// a pod without a sidecar is scraped where its annotations say; the real Prometheus sees both apps'
// counters and Istio's metrics under the kubernetes-pods job.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prometheusQuery, eventually, meshDown, meshUp, newMesh, podOf, request, type Mesh } from './mesh.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/app-metrics', import.meta.url));

let mesh: Mesh | undefined;
/** Host network (HTTP_PROXY, apps on 127.2.x.y) and the default (pod network mode when root). */
const MODES: readonly (readonly string[])[] = [['--network', 'host'], []];

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/** One instant query against the mesh's Prometheus, by the one grouping label. */
const promQuery = (query: string, by: string): Promise<Record<string, number>> =>
  prometheusQuery(m(), query, by);

/** Sends `n` orders to a pod's port 8080 (through its sidecar when it has one); asserts each was taken. */
async function order(podIp: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await request(`http://${podIp}:8080/`);
    assert.equal(r.status, 200, `order ${i} to ${podIp}: ${r.error ?? r.body}`);
  }
}

for (const mode of MODES)
  describe(
    `Prometheus metrics merging on mizzen up ${mode.join(' ') || '(default network)'}`,
    { timeout: 600_000 },
    () => {
      before(async () => {
        mesh = await newMesh();
        await meshUp(mesh, FIXTURE, [...mode, '--with-prometheus', '--scrape-interval', '1']);
      });

      after(() => meshDown(mesh));

      it("targets.json points at the sidecar's merged port, as Istio's injector rewrites the annotations", () => {
        const groups = JSON.parse(readFileSync(join(m().run, 'prometheus', 'targets.json'), 'utf8')) as {
          targets: string[];
          labels: Record<string, string>;
        }[];
        const row = (addr: string): Record<string, string> | undefined =>
          groups.find((g) => g.targets[0] === addr)?.labels;
        const shop = podOf(m(), 'shop');
        assert.deepEqual(row(`${shop.podIp}:15020`), {
          __metrics_path__: '/stats/prometheus',
          job: 'kubernetes-pods',
          namespace: 'default',
          pod: shop.name,
          app: 'shop',
        });
        assert.equal(row(`${shop.podIp}:15090`), undefined, 'no separate Envoy target: it is merged');
        assert.equal(row(`${shop.podIp}:9102`), undefined, 'the app is scraped through the merge');
        const legacy = podOf(m(), 'legacy-shop');
        assert.equal(
          row(`${legacy.podIp}:9102`)?.__metrics_path__,
          '/metrics',
          'no sidecar: its own annotations',
        );
        assert.equal(row(`${legacy.podIp}:15020`), undefined);
      });

      it(':15020/stats/prometheus answers the agent, the proxy and the app together', async () => {
        const shop = podOf(m(), 'shop');
        await order(shop.podIp, 5);
        let body = '';
        await eventually(
          "the sidecar's inbound counter and the app's counter at 5",
          async () => {
            const r = await request(`http://${shop.podIp}:15020/stats/prometheus`);
            body = r.body;
            return (
              r.status === 200 &&
              /^shop_orders_total\{kind="web"\} 5$/m.test(body) &&
              /^istio_requests_total\{reporter="destination",[^}]*destination_workload="shop"[^}]*response_code="200"[^}]*\} 5$/m.test(
                body,
              )
            );
          },
          30_000,
          250,
          () => body.slice(0, 2000),
        );
        assert.match(body, /^istio_agent_scrapes_total \d+$/m);
        assert.match(body, /^envoy_server_live 1$/m, "the proxy's own stats");
        assert.match(body, /^shop_process_cpu_user_seconds_total /m, "the app's default metrics");
        // A scrape before the app listened counts one failure (CI saw it): the app's scrapes from now on
        // succeed, so the counter stays where it is.
        const failures = (b: string): number =>
          Number(/^istio_agent_scrape_failures_total\{type="application"\} (\d+)$/m.exec(b)?.[1] ?? 0);
        // /metrics is the same merged answer, as pilot-agent serves it.
        const again = (await request(`http://${shop.podIp}:15020/metrics`)).body;
        assert.match(again, /^shop_orders_total\{kind="web"\} 5$/m);
        assert.match(again, /^istio_agent_scrapes_total \d+$/m);
        assert.equal(failures(again), failures(body), 'the app scrape of /metrics succeeded');
      });

      it("the real Prometheus has both apps' metrics and Istio's under the kubernetes-pods job", async () => {
        const shop = podOf(m(), 'shop');
        const legacy = podOf(m(), 'legacy-shop');
        await order(legacy.podIp, 2);
        let orders: Record<string, number> = {};
        await eventually(
          'shop_orders_total scraped from both pods',
          async () => {
            orders = await promQuery('sum(shop_orders_total) by (pod)', 'pod');
            return orders[shop.name] === 5 && orders[legacy.name] === 2;
          },
          60_000,
          500,
          () => JSON.stringify(orders),
        );
        const jobs = await promQuery(
          'sum(istio_requests_total{reporter="destination",destination_workload="shop"}) by (job)',
          'job',
        );
        assert.deepEqual(jobs, { 'kubernetes-pods': 5 });
      });
    },
  );
