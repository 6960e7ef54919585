// VirtualHost require_tls (Istio's httpsRedirect): plaintext requests get a 301 to the https URL,
// requests that arrived over TLS (x-forwarded-proto https) are routed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  get,
  hcm,
  httpListener,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../../test-util.js';

describe('require_tls', () => {
  let backend: Backend;
  let proxy: Proxy;

  before(async () => {
    backend = await startBackend('b');
    const rc = {
      name: 'rc',
      virtualHosts: [
        {
          name: 'secure',
          domains: ['secure.example.com*'],
          requireTls: 'ALL',
          routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }],
        },
        { name: 'open', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] },
      ],
    };
    proxy = await startProxy([httpListener('l', hcm(rc))], [staticCluster('b', [backend.port])]);
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('answers plaintext with 301 to https, keeping host, port, path and query', async () => {
    const r = await get(proxy.listenerPort('l'), '/status/200?x=1', { host: 'secure.example.com:8080' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://secure.example.com:8080/status/200?x=1');
    assert.equal(backend.seen.length, 0);
  });

  it('routes requests that came over TLS and hosts without require_tls', async () => {
    const tls = await get(proxy.listenerPort('l'), '/a', {
      host: 'secure.example.com',
      'x-forwarded-proto': 'https',
    });
    assert.equal(tls.status, 200);
    const open = await get(proxy.listenerPort('l'), '/b', { host: 'other.example.com' });
    assert.equal(open.status, 200);
  });
});
