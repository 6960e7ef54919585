// Outlier ejection end to end: DestinationRule outlierDetection (3 consecutive 5xx, interval 100 ms,
// baseEjectionTime 1 s) → pilot → proxy, one of three endpoints answers 500. It is ejected after 3
// failures, comes back, takes exactly 3 more, is ejected again; the outlier stats count it. Asserted
// on the order of answers; the durations are checked with a fake clock in outlier-detector.test.ts.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../src/proxy/proxy.js';
import {
  admin,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  type Backend,
  waitFor,
} from '../../src/proxy/test-util.js';
import { CLUSTER, pilotCluster } from './pilot-cluster.js';

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin }
spec:
  host: httpbin
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection:
      consecutive5xxErrors: 3
      interval: 100ms
      baseEjectionTime: 1s
      maxEjectionPercent: 100
`;

describe('outlier detection (DestinationRule → pilot → proxy, real time)', () => {
  let good: Backend[];
  let bad: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    good = [await startBackend('good-1'), await startBackend('good-2')];
    bad = await startBackend('bad', (_req, res) => {
      res.writeHead(500, { 'x-backend': 'bad' });
      res.end('boom');
    });
    const cluster = pilotCluster(DR, [good[0].port, bad.port, good[1].port]);
    assert.equal((cluster.outlierDetection as any).consecutive_5xx.value, 3);
    const routes = routeConfig('r', [{ match: { prefix: '/' }, route: { cluster: CLUSTER } }]);
    proxy = await startProxy([httpListener('l', hcm(routes))], [cluster]);
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    for (const b of [...good, bad]) await b.close();
  });

  it('ejects the 500 endpoint, lets it back, ejects it again after 3 more failures (event order)', async () => {
    // The order of answers, not their timing: durations (base time, then twice it) are checked with a
    // fake clock in src/proxy/upstream/outlier/outlier-detector.test.ts; wall-clock gaps flaked under load.
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const answers: string[] = [];
    const one = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/get', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            answers.push(res.statusCode === 500 ? 'bad' : 'good');
            resolve();
          });
        });
        req.on('error', reject);
        req.end();
      });
    // An ejection is a run of answers with no 'bad' among them far longer than round robin over three
    // hosts allows (one in three is the bad one while it is in the set).
    // Round robin with the bad host in the set gives at most ~3 good answers in a row (two loops
    // interleave); an ejection of 1 s gives far more even when a request takes 100 ms under load.
    const RUN = 6;
    const ejections = (): Array<{ start: number; end: number }> => {
      const out: Array<{ start: number; end: number }> = [];
      let runStart = -1;
      for (let i = 0; i <= answers.length; i++) {
        const isGood = i < answers.length && answers[i] === 'good';
        if (isGood && runStart < 0) runStart = i;
        if (!isGood && runStart >= 0) {
          if (i - runStart >= RUN) out.push({ start: runStart, end: i });
          runStart = -1;
        }
      }
      return out;
    };
    // Done once the second ejection ended (the bad host answered after it): two closed runs.
    const done = (): boolean => ejections().filter((e) => e.end < answers.length).length >= 2;
    const deadline = Date.now() + 60_000;
    const loop = async (): Promise<void> => {
      while (!done() && Date.now() < deadline) await one();
    };
    await Promise.all([loop(), loop()]);
    const runs = ejections();
    console.log(
      `answers: ${answers.length}; ejection runs (good answers in a row): ${runs.map((r) => r.end - r.start).join(', ')}`,
    );
    assert.ok(runs.length >= 2, `expected two ejections, answers: ${answers.join(' ')}`);
    // Before the first ejection the bad host failed 3 times in a row (consecutive5xxErrors: 3), and
    // between the first and second ejection it took 3 failing requests again, no more.
    const between = answers.slice(runs[0].end, runs[1].start).filter((a) => a === 'bad').length;
    assert.equal(
      between,
      3,
      `failures between ejections: ${answers.slice(runs[0].end, runs[1].start).join(' ')}`,
    );
    const before = answers.slice(0, runs[0].start).filter((a) => a === 'bad').length;
    assert.equal(
      before,
      3,
      `failures before the first ejection: ${answers.slice(0, runs[0].start).join(' ')}`,
    );
    // The detector ran again after the second ejection: the host is ejected once more or back in.
    const clusters = (await admin(proxy, '/clusters')).body;
    assert.match(clusters, new RegExp(`::127\\.0\\.0\\.1:${good[0].port}::health_flags::healthy`));
    const stats = (await admin(proxy, '/stats?filter=outlier_detection')).body;
    assert.match(stats, /outlier_detection\.ejections_enforced_consecutive_5xx: ([2-9]|\d{2,})\b/);
    // More failing requests eject it a third time (the counter only grows, so no timing is involved).
    await waitFor(
      'a third ejection',
      async () => {
        for (let i = 0; i < 3; i++) await one();
        const body = (await admin(proxy, '/stats?filter=outlier_detection')).body;
        return Number(/ejections_enforced_consecutive_5xx: (\d+)/.exec(body)?.[1] ?? 0) >= 3;
      },
      60_000,
    );
    agent.destroy();
  });
});
