// The scrape source against a real HTTP endpoint on loopback whose counter grows per request, and the
// targets.json reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../api/test-util.js';
import { readTargetsFile, ScrapeSource } from './metrics-source.js';

test('scraping a proxy endpoint yields the counter rise over the window, per second of history', async () => {
  let served = 0;
  const server = createServer((_req, res) => {
    served++;
    res.end(
      `# TYPE istio_requests_total counter\nistio_requests_total{reporter="destination",response_code="200"} ${served * 10}\nenvoy_other 1\n`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/prometheus`;
  const src = new ScrapeSource(() => [url], 50);
  try {
    const w = await waitFor('two scrapes with a rise', async () => {
      const x = await src.window(60);
      return x.series.length > 0 && x.seconds > 0 ? x : null;
    });
    assert.equal(w.series.length, 1, 'only the graph families are kept');
    assert.equal(w.series[0].name, 'istio_requests_total');
    assert.equal(w.series[0].increase % 10, 0);
    assert.ok(w.series[0].increase >= 10);
  } finally {
    src.close();
    server.close();
  }
});

test('targets.json: the proxies (/stats/prometheus), not the control plane (/metrics)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mz-targets-'));
  try {
    const f = join(dir, 'targets.json');
    writeFileSync(
      f,
      JSON.stringify([
        { targets: ['127.0.0.1:15014'], labels: { __metrics_path__: '/metrics' } },
        { targets: ['127.1.0.2:15090'], labels: { __metrics_path__: '/stats/prometheus' } },
      ]),
    );
    assert.deepEqual(readTargetsFile(f), ['http://127.1.0.2:15090/stats/prometheus']);
    assert.deepEqual(readTargetsFile(join(dir, 'missing.json')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
