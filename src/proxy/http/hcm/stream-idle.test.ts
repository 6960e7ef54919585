// HCM stream_idle_timeout: a silent stream gets Envoy's 408 "stream timeout"; a stream that keeps
// moving bytes is never cut, however long it lasts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../../test-util.js';

describe('stream idle timeout', () => {
  let silent: Backend;
  let trickle: Backend;
  let proxy: Proxy;
  let port: number;

  before(async () => {
    silent = await startBackend('silent', (_req, res) => {
      setTimeout(() => res.end('too late'), 10_000).unref();
    });
    trickle = await startBackend('trickle', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const t = setInterval(() => {
        res.write(`${n}`);
        if (++n === 25) {
          clearInterval(t);
          res.end();
        }
      }, 100);
    });
    const routes = routeConfig('r', [
      { match: { prefix: '/silent' }, route: { cluster: 'silent', timeout: {} } },
      { match: { prefix: '/trickle' }, route: { cluster: 'trickle', timeout: {} } },
    ]);
    proxy = await startProxy(
      // 1 s idle against a byte every 100 ms: a loaded machine's late timer is not a silent stream.
      [httpListener('l', hcm(routes, { streamIdleTimeout: { seconds: 1 } }))],
      [staticCluster('silent', [silent.port]), staticCluster('trickle', [trickle.port])],
    );
    port = proxy.listenerPort('l');
  });

  after(async () => {
    await proxy.close();
    await silent.close();
    await trickle.close();
  });

  it('answers 408 "stream timeout" when nothing moves for the idle timeout', async () => {
    const r = await get(port, '/silent');
    assert.equal(r.status, 408);
    assert.equal(r.body, 'stream timeout');
  });

  it('keeps a stream that keeps sending bytes, longer than the idle timeout in total', async () => {
    const r = await get(port, '/trickle');
    assert.equal(r.status, 200);
    assert.equal(r.body, Array.from({ length: 25 }, (_, i) => i).join(''), 'all 2.5 s of it');
  });
});
