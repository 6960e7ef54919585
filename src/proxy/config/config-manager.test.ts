// Config updates: atomic swaps under steady load lose no request; bad resources are rejected alone
// with messages naming resource and field while the last good config keeps serving.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
  waitFor,
} from '../test-util.js';
import { TYPE } from './config-manager.js';

describe('config updates', () => {
  let a: Backend;
  let b: Backend;
  let proxy: Proxy;
  let port: number;

  const routeTo = (cluster: string, extra: Record<string, unknown> = {}): any =>
    routeConfig('rds-r', [{ name: 'all', match: { prefix: '/' }, route: { cluster, ...extra } }]);

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    proxy = await startProxy([], [], { drainTimeMs: 3000 });
    assert.equal(
      await proxy.apply(TYPE.CLUSTER, [staticCluster('a', [a.port]), staticCluster('b', [b.port])], 'c1'),
      undefined,
    );
    assert.equal(await proxy.apply(TYPE.LISTENER, [httpListener('dyn', hcm('rds-r'))], 'l1'), undefined);
    assert.equal(await proxy.apply(TYPE.ROUTE, [routeTo('a')], 'r1'), undefined);
    port = proxy.listenerPort('dyn');
  });

  after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  it('swaps routes, clusters and listener config under steady load with zero failed requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    let running = true;
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/load', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) {
              ok++;
              seen.add(String(res.headers['x-backend']));
            } else failures.push(`status ${res.statusCode}`);
            resolve();
          });
        });
        req.on('error', (e) => {
          failures.push(e.message);
          resolve();
        });
        req.end();
      });
    const worker = async (): Promise<void> => {
      while (running) await one();
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let i = 0; i < 16; i++) {
      // Let requests complete between updates (by count, not time: the machine may be loaded).
      await waitFor('five more requests', () => ok >= (i + 1) * 5 || failures.length > 0, 10_000, 5);
      const target = i % 2 === 0 ? 'b' : 'a';
      assert.equal(await proxy.apply(TYPE.ROUTE, [routeTo(target)], `r${i + 2}`), undefined);
      if (i % 4 === 1) {
        // A CDS update that changes cluster a (new instance, old pools drain) …
        const ca = staticCluster('a', [a.port], { connectTimeout: { seconds: 2 + i } });
        assert.equal(await proxy.apply(TYPE.CLUSTER, [ca, staticCluster('b', [b.port])], `c${i}`), undefined);
      }
      if (i % 4 === 3) {
        // … and an LDS update that changes the HCM: old connections drain, new ones get the new chain.
        const l = httpListener('dyn', hcm('rds-r', { statPrefix: `v${i}` }), port);
        assert.equal(await proxy.apply(TYPE.LISTENER, [l], `l${i}`), undefined);
      }
    }
    running = false;
    await Promise.all(workers);
    agent.destroy();
    assert.deepEqual(failures, []);
    assert.ok(ok > 50, `only ${ok} requests completed`);
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });

  it('rejects an invalid route config naming resource and field, keeps serving the last good one', async () => {
    assert.equal(await proxy.apply(TYPE.ROUTE, [routeTo('a')], 'good'), undefined);
    const bad = routeConfig('rds-r', [
      { name: 'broken', match: { safeRegex: { regex: '(unclosed' } }, route: { cluster: 'b' } },
    ]);
    const err = await proxy.apply(TYPE.ROUTE, [bad], 'bad');
    assert.ok(err instanceof Error);
    assert.match(err.message, /route configuration rds-r/);
    assert.match(err.message, /virtualHosts\[0\]\.routes\[0\]\(broken\)\.match\.safeRegex\.regex/);
    const r = await get(port, '/still');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'a');
  });

  it('rejects only the offending cluster and listener', async () => {
    const err = await proxy.apply(
      TYPE.CLUSTER,
      [staticCluster('a', [a.port]), staticCluster('b', [b.port]), { name: 'weird', type: 'NOPE' }],
      'c-bad',
    );
    assert.ok(err instanceof Error);
    assert.match(err.message, /cluster weird: type: /);
    assert.ok(proxy.clusters.get('a'));
    const badListener = httpListener('bad', {
      ...hcm('rds-r'),
      httpFilters: [
        { name: 'acme.filters.http.unknown', typedConfig: { '@type': 'type.googleapis.com/acme.Unknown' } },
      ],
    });
    const lerr = await proxy.apply(
      TYPE.LISTENER,
      [httpListener('dyn', hcm('rds-r', { statPrefix: 'v15' }), port), badListener],
      'l-bad',
    );
    assert.ok(lerr instanceof Error);
    assert.match(
      lerr.message,
      /listener bad: filterChains\[0\]\.filters\[0\].*httpFilters\[0\] \(acme\.filters\.http\.unknown\)/,
    );
    assert.equal((await get(port, '/x')).status, 200);
  });

  it('removing a route config makes requests 404 NR; re-adding restores them', async () => {
    await proxy.apply(TYPE.ROUTE, [], 'empty');
    assert.equal((await get(port, '/x')).status, 404);
    await proxy.apply(TYPE.ROUTE, [routeTo('b')], 'back');
    const r = await get(port, '/x');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'b');
  });

  it('a route config equal to the running one is kept in state of the world; over delta only the same object is', async () => {
    const config = proxy.config;
    const same = routeTo('b');
    // From a different config, so the running table is compiled from `same` itself.
    assert.equal(await config.apply(TYPE.ROUTE, [routeTo('a')], 'r-s0'), undefined);
    assert.equal(await config.apply(TYPE.ROUTE, [same], 'r-s1'), undefined);
    const running = config.routes.get('rds-r')!.table;
    assert.equal(await config.apply(TYPE.ROUTE, [routeTo('b')], 'r-s2'), undefined);
    assert.equal(config.routes.get('rds-r')!.table, running, 'equal JSON: not recompiled');
    assert.equal(await config.apply(TYPE.ROUTE, [same], 'r-d1', 'dynamic', true), undefined);
    assert.equal(config.routes.get('rds-r')!.table, running, 'delta, the object it has: kept');
    // Over delta a new object means the server saw a new version: compiled without comparing contents.
    assert.equal(await config.apply(TYPE.ROUTE, [routeTo('b')], 'r-d2', 'dynamic', true), undefined);
    assert.notEqual(config.routes.get('rds-r')!.table, running);
    assert.equal(config.routes.get('rds-r')!.version, 'r-d2');
    const r = await get(port, '/x');
    assert.equal(r.headers['x-backend'], 'b');
  });

  it('VHDS: a stub serves once its hosts came (the old table until then); a changed host compiles alone; a bad one is NACKed, the last good kept', async () => {
    const config = proxy.config;
    const VH = TYPE.VIRTUAL_HOST;
    const stub = { name: 'rds-r', vhds: { configSource: { ads: {} } } };
    const host = (name: string, domains: string[], cluster: string): any => ({
      name: `rds-r/${name}`,
      domains,
      routes: [{ name: 'all', match: { prefix: '/' }, route: { cluster } }],
    });
    // As Envoy: VHDS only over a delta stream.
    const sotw = await config.apply(TYPE.ROUTE, [stub], 'v-sotw');
    assert.match(String(sotw?.message), /route configuration rds-r: vhds: VHDS needs delta xDS/);
    assert.equal((await get(port, '/x')).headers['x-backend'], 'b', 'the last good table keeps serving');

    assert.equal(await config.apply(TYPE.ROUTE, [stub], 'v1', 'dynamic', true), undefined);
    assert.deepEqual(config.vhdsNames(), ['rds-r']);
    // Until VHDS answers, the whole route configuration this name had keeps serving.
    assert.equal((await get(port, '/x')).headers['x-backend'], 'b');
    const other = host('other', ['other.example'], 'b');
    assert.equal(await config.apply(VH, [host('any', ['*'], 'a'), other], 'h1', 'dynamic', true), undefined);
    assert.equal((await get(port, '/x')).headers['x-backend'], 'a');
    const compiledOther = config.current.routeTable('rds-r')!.virtualHost('other.example');

    const changed = host('any', ['*'], 'b');
    assert.equal(await config.apply(VH, [changed, other], 'h2', 'dynamic', true), undefined);
    assert.equal((await get(port, '/x')).headers['x-backend'], 'b');
    const table = config.current.routeTable('rds-r')!;
    assert.equal(
      table.virtualHost('other.example'),
      compiledOther,
      'the unchanged host was not compiled again',
    );
    assert.equal(table.config.virtualHosts?.length, 2);

    const bad = {
      ...host('any', ['*'], 'a'),
      routes: [
        {
          match: { prefix: '/' },
          route: { cluster: 'a', regexRewrite: { pattern: { regex: '(' }, substitution: 'x' } },
        },
      ],
    };
    const nack = await config.apply(VH, [bad, other], 'h3', 'dynamic', true);
    assert.match(String(nack?.message), /route configuration rds-r: virtualHosts\[0\]\.routes\[0\].*regex/);
    assert.equal((await get(port, '/x')).headers['x-backend'], 'b', 'the last good hosts keep serving');

    // An inline route configuration cannot fetch virtual hosts: refused, not left waiting.
    const inline = await proxy.apply(
      TYPE.LISTENER,
      [httpListener('dyn', hcm('rds-r'), port), httpListener('inline', hcm({ ...stub, name: 'i' }))],
      'l-vhds',
    );
    assert.match(String(inline?.message), /listener inline: .*routeConfig\.vhds: VHDS is supported only/);

    // Back to a whole route config: VHDS is no longer asked for it.
    assert.equal(await config.apply(TYPE.ROUTE, [routeTo('a')], 'v2', 'dynamic', true), undefined);
    assert.deepEqual(config.vhdsNames(), []);
    assert.equal((await get(port, '/x')).headers['x-backend'], 'a');
  });
});
