// The dashboard in a real browser (playwright-core driving Debian's chromium) against a real bookinfo
// mesh (`mizzen up --dashboard`) with real traffic: the graph's edges with rates and the mTLS lock, the
// configured vs observed split, a rejected file with its line in config health, and the explainer's
// answer for the request-routing task. MIZZEN_DASHBOARD_SCREENSHOTS=DIR also saves each view as a PNG.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  BIN,
  EXAMPLES,
  apply,
  applyYaml,
  eventually,
  meshDown,
  meshUp,
  newMesh,
  request,
  runState,
  type Mesh,
} from '../tasks/mesh.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.MIZZEN_DASHBOARD_SCREENSHOTS;
const NET = 'bookinfo/networking/';

let mesh: Mesh | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let pumping = true;
let traffic: Promise<void> = Promise.resolve();
let sent = 0;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

function p(): Page {
  assert.ok(page, 'no browser page');
  return page;
}

/** Requests /productpage through the gateway, one after another, until the suite ends. */
async function pump(port: number): Promise<void> {
  while (pumping) {
    await request(`http://127.0.0.1:${port}/productpage`, { timeoutMs: 5000 });
    sent++;
  }
}

async function shot(name: string): Promise<void> {
  if (SHOTS) await p().screenshot({ path: join(SHOTS, `dashboard-${name}.png`) });
}

/** The rates the edge table shows, by `source → target` node ids. */
async function edgeRates(): Promise<Record<string, { rps: number; mtls: boolean; weight: string }>> {
  return p().$$eval('table.edges tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        `${r.getAttribute('data-source')} → ${r.getAttribute('data-target')}`,
        {
          rps: Number(r.querySelector('[data-rps]')?.getAttribute('data-rps') ?? 0),
          mtls: r.querySelector('td.mtls svg')?.getAttribute('aria-label') === 'mutual TLS',
          weight: r.lastElementChild?.textContent ?? '',
        },
      ]),
    ),
  );
}

describe('mizzen dashboard in a browser', { timeout: 300_000 }, () => {
  before(async () => {
    mesh = await newMesh();
    await meshUp(mesh, `${EXAMPLES}bookinfo`, ['--dashboard']);
    traffic = pump(mesh.gatewayPort);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    pumping = false;
    await traffic;
    await browser?.close();
    await meshDown(mesh);
  });

  it('up --dashboard prints and records its URL; the graph shows productpage → reviews v1/v2/v3 → ratings with rates and mTLS', async () => {
    const url = runState(m()).dashboardUrl;
    assert.ok(url, `state.json names no dashboard:\n${m().upOutput}`);
    assert.match(m().upOutput, /dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    await p().goto(`${url}#graph`);
    let rates: Awaited<ReturnType<typeof edgeRates>> = {};
    const want = [
      'wl:istio-system/istio-ingressgateway → wl:default/productpage-v1',
      'wl:default/productpage-v1 → wl:default/details-v1',
      'wl:default/productpage-v1 → wl:default/reviews-v1',
      'wl:default/productpage-v1 → wl:default/reviews-v2',
      'wl:default/productpage-v1 → wl:default/reviews-v3',
      'wl:default/reviews-v2 → wl:default/ratings-v1',
      'wl:default/reviews-v3 → wl:default/ratings-v1',
    ];
    // An edge appears with the first of its two reporters scraped; only the destination's sidecar knows
    // the connection was mTLS, so the mark follows once Prometheus has scraped that side too.
    await eventually(
      'every bookinfo edge with a non-zero rate, the sidecar-to-sidecar ones marked mutual TLS',
      async () => {
        rates = await edgeRates();
        return (
          want.every((k) => (rates[k]?.rps ?? 0) > 0) && want.slice(1).every((k) => rates[k]?.mtls === true)
        );
      },
      45_000,
      500,
      () => JSON.stringify(rates, null, 1),
    );
    // Cytoscape drew the same edges (the canvas holds what the table lists).
    const drawn = await p().getAttribute('#graph', 'data-drawn-edges');
    assert.ok(Number(drawn) >= want.length, `graph edges: ${drawn}`);
  });

  it('after the traffic-shifting task the reviews edges show the configured 50/50 next to what was seen', async () => {
    await apply(m(), `${NET}destination-rule-all.yaml`, `${NET}virtual-service-reviews-50-v3.yaml`);
    let rates: Awaited<ReturnType<typeof edgeRates>> = {};
    await eventually(
      'weights on productpage → reviews v1 and v3',
      async () => {
        rates = await edgeRates();
        return ['v1', 'v3'].every((v) =>
          /^50% \/ \d+%$/.test(rates[`wl:default/productpage-v1 → wl:default/reviews-${v}`]?.weight ?? ''),
        );
      },
      30_000,
      500,
      () => JSON.stringify(rates, null, 1),
    );
    // v2 is configured at 0% but still served before the rule arrived (the window covers both).
    assert.match(rates['wl:default/productpage-v1 → wl:default/reviews-v2']?.weight ?? '', /^0% \/ \d+%$/);
    await shot('graph');
    await p().emulateMedia({ colorScheme: 'dark' });
    if (SHOTS) await p().reload();
    await p().waitForSelector('#graph[data-drawn-edges]');
    await shot('graph-dark');
    await p().emulateMedia({ colorScheme: 'light' });
    if (SHOTS) await p().reload();
    await p().waitForSelector('#graph[data-drawn-edges]');
    // The window selector asks the server for the 5 m window, and the table is redrawn from it.
    const [answer] = await Promise.all([
      p().waitForResponse((r) => r.url().endsWith('/api/graph?window=5m')),
      p().selectOption('select', '5m'),
    ]);
    assert.equal(answer.status(), 200);
    assert.equal(((await answer.json()) as { window: string }).window, '5m');
    // A workload's details: who calls it, its pod's proxy state, the config that reaches it.
    await p().locator('table.edges button', { hasText: 'reviews-v1' }).first().click();
    const panel = p().locator('aside.details');
    await eventually(
      'reviews-v1 details with its SYNCED pod and the reviews VirtualService',
      async () => {
        const text = (await panel.textContent()) ?? '';
        return (
          /productpage-v1: [\d.]+ rps/.test(text) &&
          /reviews-v1-\S+ SYNCED/.test(text) &&
          text.includes('VirtualService default/reviews')
        );
      },
      15_000,
      300,
    );
    await shot('workload');
    await panel.locator('button', { hasText: 'Close' }).click();
    // productpage's page: its sidecar's proxy-config tables, its SPIFFE certificate, the test's requests in its access log.
    await p().locator('table.edges button', { hasText: 'productpage-v1' }).first().click();
    const sidecar = p().locator('aside.details section.sidecar').first();
    let text = '';
    await eventually(
      "productpage's sidecar config, certificate and access log",
      async () => {
        text = (await sidecar.textContent()) ?? '';
        const clusters = (await sidecar.locator('details.clusters').textContent()) ?? '';
        const routes = (await sidecar.locator('details.routes').textContent()) ?? '';
        return (
          (await sidecar.locator('details.listeners tbody tr').count()) > 0 &&
          clusters.includes('reviews.default.svc.cluster.local') &&
          routes.includes('9080') &&
          text.includes('spiffe://cluster.local/ns/default/sa/bookinfo-productpage') &&
          /"GET \/productpage HTTP\/1\.1" 200/.test(
            (await sidecar.locator('details.access-log pre').textContent()) ?? '',
          )
        );
      },
      15_000,
      300,
      () => text,
    );
    // Keyboard: the tables' summaries are reachable and open with Enter.
    await sidecar.locator('details.listeners summary').focus();
    await p().keyboard.press('Enter');
    assert.equal(await sidecar.locator('details.listeners').getAttribute('open'), '');
    await sidecar.locator('details.access-log').scrollIntoViewIfNeeded();
    await shot('workload-sidecar');
    await p().locator('aside.details button', { hasText: 'Close' }).click();
  });

  it('config health shows a rejected file with its line, and every proxy SYNCED per type', async () => {
    const bad = join(m().run, 'config', 'applied', 'zz-broken-ratings.yaml');
    writeFileSync(
      bad,
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: broken-ratings
spec:
  host: ratings
  trafficPolicy:
    loadBalancer:
      simple: FASTEST
`,
    );
    await p().click('#tab-health');
    const row = p().locator('tr[data-resource="DestinationRule default/broken-ratings"]');
    let table = '';
    await eventually(
      'the broken DestinationRule, rejected, at zz-broken-ratings.yaml:9',
      async () =>
        ((table = (await p().locator('table.resources').textContent()) ?? ''), (await row.count()) === 1) &&
        (await row.locator('.badge').textContent()) === 'rejected' &&
        /zz-broken-ratings\.yaml:9:\d+: spec\.trafficPolicy\.loadBalancer\.simple/.test(
          (await row.textContent()) ?? '',
        ),
      30_000,
      300,
      () => table,
    );
    const vs = p().locator('tr[data-resource="VirtualService default/reviews"]');
    assert.match((await vs.textContent()) ?? '', /\d+ prox/, 'the reviews VirtualService reaches proxies');
    // Kinds pilot does not stamp: reach as pilot selects them (the Gateway → the ingress gateway proxy).
    const gw = p().locator('tr[data-resource="Gateway default/bookinfo-gateway"]');
    assert.match(
      (await gw.textContent()) ?? '',
      /(^|\D)1 proxy/,
      'the bookinfo Gateway reaches the ingress gateway',
    );
    const pp = p().locator('table.proxies tr', { hasText: 'productpage-v1' });
    await eventually(
      'productpage SYNCED',
      async () => (await pp.locator('.badge').textContent()) === 'SYNCED',
      15_000,
    );
    await p().selectOption('select', 'rejected');
    await shot('health');
  });

  it("the explainer answers the request-routing task's end-user: jason question with the matching rule's file:line and the authorization decision", async () => {
    await apply(m(), `${NET}virtual-service-reviews-test-v2.yaml`);
    // Only productpage's identity may call reviews (what the bookinfo traffic does anyway).
    await applyYaml(
      m(),
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-viewer, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }]
    to: [{ operation: { methods: ["GET"] } }]
`,
    );
    await p().click('#tab-explain');
    const source = p().locator('select[name=source]');
    await eventually(
      'productpage among the sources',
      async () => (await source.textContent())?.includes('productpage-v1') ?? false,
      10_000,
    );
    const value = await source.locator('option', { hasText: 'productpage-v1' }).first().getAttribute('value');
    await source.selectOption(value ?? '');
    await p().fill('input[name=url]', 'http://reviews:9080/reviews/0');
    await p().fill('textarea[name=headers]', 'end-user: jason');
    let rule = '';
    await eventually(
      'the jason rule of the test-v2 VirtualService',
      async () => {
        await p().click('form.explain button');
        await p().waitForSelector('.answer .rule', { timeout: 5000 });
        rule = (await p().textContent('.answer .rule')) ?? '';
        return /spec\.http\[0\]\.match\[0\]/.test(rule);
      },
      20_000,
      500,
      () => rule,
    );
    assert.match(rule, /^VirtualService default\/reviews spec\.http\[0\]\.match\[0\] at \S+\.yaml:\d+:\d+$/);
    const clusters = (await p().textContent('table.clusters')) ?? '';
    assert.match(clusters, /outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local/);
    // The decision at reviews-v2's sidecar, evaluated with the proxy's RBAC engine for productpage's
    // SPIFFE identity over mutual TLS.
    const v2 = p().locator('li.authz[data-workload^="default/reviews-v2"]');
    let decision = '';
    await eventually(
      'reviews-v2 allows productpage by the reviews-viewer policy',
      async () => {
        await p().click('form.explain button');
        await p().waitForSelector('.answer .rule', { timeout: 5000 });
        decision = (await v2.count()) === 1 ? ((await v2.textContent()) ?? '') : '';
        return /allowed by AuthorizationPolicy default\/reviews-viewer rule\[0\]/.test(decision);
      },
      20_000,
      500,
      () => decision,
    );
    assert.equal(await v2.getAttribute('data-decision'), 'ALLOW');
    assert.match(decision, /mutual TLS as spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage/);
    assert.match(decision, /reviews-viewer rule\[0\] at \S+:\d+:\d+ \(ALLOW\)/);
    await shot('explain');
    // Without the header the first rule does not match, and the answer says why.
    await p().fill('textarea[name=headers]', '');
    await p().click('form.explain button');
    await eventually(
      'rule #1 and why #0 did not match',
      async () => /spec\.http\[1\]/.test((await p().textContent('.answer .rule')) ?? ''),
      10_000,
    );
    assert.match((await p().textContent('ol.tried')) ?? '', /did not match: .*end-user/);
    // Another caller's identity is not in the policy: reviews denies it, naming the policy.
    const ratings = await source.locator('option', { hasText: 'ratings-v1' }).first().getAttribute('value');
    await source.selectOption(ratings ?? '');
    await p().click('form.explain button');
    await eventually(
      'ratings denied at reviews-v1',
      async () => {
        const v1 = p().locator('li.authz[data-workload^="default/reviews-v1"]');
        return (await v1.count()) === 1 && (await v1.getAttribute('data-decision')) === 'DENY';
      },
      10_000,
    );
    assert.match(
      (await p().textContent('li.authz[data-workload^="default/reviews-v1"]')) ?? '',
      /denied: no ALLOW policy matches \(AuthorizationPolicy default\/reviews-viewer rule\[0\]/,
    );
  });

  it('mizzen dashboard serves the same API for the running mesh and prints its URL', async () => {
    const child = spawn(process.execPath, [BIN, 'dashboard', '--run-dir', m().run, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      await eventually(
        'the URL',
        () => /dashboard: http:\/\/127\.0\.0\.1:\d+\//.test(out),
        20_000,
        100,
        () => out,
      );
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1];
      const info = JSON.parse((await request(`${url}api/info`)).body) as {
        controlPlane: string;
        metrics: string;
      };
      assert.equal(info.controlPlane, runState(m()).debugAddress);
      assert.equal(info.metrics, 'scrape');
      const health = await request(`${url}api/health`);
      assert.equal(health.status, 200);
      assert.ok((JSON.parse(health.body) as { proxies: unknown[] }).proxies.length >= 7);
      assert.equal((await request(`${url}api/graph?window=2m`)).status, 400);
      assert.equal((await request(`${url}api/graph`, { method: 'POST' })).status, 405);
    } finally {
      child.kill('SIGTERM');
    }
    assert.ok(sent > 0);
  });
});
