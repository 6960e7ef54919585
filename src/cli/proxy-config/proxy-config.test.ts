// proxy-config and proxy-status against a real local mesh (examples/bookinfo via `up -d` in a temp run dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLES, runMizzen, type CliResult } from '../test-util.js';
import { freeGatewayPort } from '../../local/ports.js';

const examples = EXAMPLES;

/** Runs `mizzen ARGS` to completion without blocking this event loop. */
const mizzen = (args: string[], timeoutMs?: number): Promise<CliResult> =>
  runMizzen(args, undefined, timeoutMs);

test('proxy-config clusters/listeners/routes/endpoints and proxy-status on bookinfo', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'mz-pc-'));
  const run = join(tmp, 'run');
  const port = await freeGatewayPort();
  t.after(async () => {
    await mizzen(['down', '--run-dir', run], 60_000);
    rmSync(tmp, { recursive: true, force: true });
  });
  const up = await mizzen(
    [
      'up',
      join(examples, 'bookinfo'),
      '-d',
      '--network',
      'host',
      '--run-dir',
      run,
      '--xds-port',
      '0',
      '--debug-port',
      '0',
      '--gateway-port-offset',
      String(port - 80),
      '--timeout',
      '150',
    ],
    200_000,
  );
  assert.equal(up.code, 0, `${up.out}\n${up.err}`);

  const clusters = await mizzen(['proxy-config', 'clusters', 'productpage', '--run-dir', run]);
  assert.equal(clusters.code, 0, clusters.err);
  assert.match(clusters.out, /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE$/m);
  assert.match(clusters.out, /^reviews\.default\.svc\.cluster\.local\s+9080\s+-\s+outbound\s+EDS\b/m);
  assert.match(clusters.out, /^-\s+9080\s+-\s+inbound\s+STATIC\b/m);

  const json = await mizzen(['proxy-config', 'clusters', 'productpage', '--run-dir', run, '-o', 'json']);
  assert.equal(json.code, 0, json.err);
  const names = (JSON.parse(json.out) as Array<{ name: string }>).map((c) => c.name);
  assert.ok(names.includes('outbound|9080||reviews.default.svc.cluster.local'), names.join(' '));

  const listeners = await mizzen(['proxy-config', 'listeners', 'productpage', '--run-dir', run]);
  assert.equal(listeners.code, 0, listeners.err);
  assert.match(listeners.out, /\b15001\s+ALL\s+Route: http_proxy$/m);

  const routes = await mizzen(['proxy-config', 'routes', 'productpage', '--run-dir', run]);
  assert.equal(routes.code, 0, routes.err);
  assert.match(
    routes.out,
    /^http_proxy\s+reviews\.default\.svc\.cluster\.local:9080\s+reviews, .*\s\/\*\s+-$/m,
  );

  const endpoints = await mizzen(['proxy-config', 'endpoints', 'productpage', '--run-dir', run]);
  assert.equal(endpoints.code, 0, endpoints.err);
  const reviewsEps = endpoints.out
    .split('\n')
    .filter((l) => l.endsWith('outbound|9080||reviews.default.svc.cluster.local'));
  assert.equal(reviewsEps.length, 3, endpoints.out);
  for (const l of reviewsEps) assert.match(l, /^127\.1\.\d+\.\d+:9080\s+HEALTHY\s+OK\s/);

  const gw = await mizzen(['proxy-config', 'routes', 'istio-ingressgateway', '--run-dir', run]);
  assert.equal(gw.code, 0, gw.err);
  assert.match(gw.out, /\s\/productpage\s/);

  const missing = await mizzen(['proxy-config', 'clusters', 'nosuchpod', '--run-dir', run]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no pod named nosuchpod/);

  const status = await mizzen(['proxy-status', '--run-dir', run]);
  assert.equal(status.code, 0, status.err);
  const lines = status.out.trim().split('\n');
  assert.match(lines[0], /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION$/);
  // Six pods and the gateway, each fully synced (RDS/EDS are ACKed right after the initial push).
  assert.equal(lines.length, 8, status.out);
  for (const l of lines.slice(1)) assert.match(l, /\sSYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s+NOT SENT\s/, l);
  assert.ok(lines.some((l) => l.startsWith('reviews-v1-')));
});
