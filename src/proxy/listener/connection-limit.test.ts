// Downstream connection limits from the bootstrap: Istio's runtime key
// overload.global_downstream_max_connections, the overload manager's resource monitor, and a
// per-listener runtime limit; connections over the limit are closed at accept and counted.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { fromEnvoyYaml } from '../../xds/envoy-yaml.js';
import { bootstrapFrom } from '../bootstrap/bootstrap.js';
import { Proxy } from '../proxy.js';
import { admin, get, hcm, httpListener, routeConfig, waitFor } from '../test-util.js';
import { connectionLimitsFrom } from './connection-limit.js';

const routes = routeConfig('r', [{ match: { prefix: '/' }, directResponse: { status: 200 } }]);

async function proxyWith(extra: Record<string, unknown>): Promise<Proxy> {
  const b = bootstrapFrom({
    staticResources: { listeners: [httpListener('a', hcm(routes)), httpListener('b', hcm(routes))] },
    ...extra,
  });
  return Proxy.start({ bootstrap: b, adminPort: 0, drainTimeMs: 500, logLevel: 'warning' });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

async function counter(p: Proxy, re: RegExp): Promise<number> {
  const body = (await admin(p, '/stats')).body;
  return [...body.matchAll(new RegExp(re.source, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

describe('downstream connection limits', () => {
  it('reads the runtime keys from Envoy-style YAML', () => {
    const b = fromEnvoyYaml({
      layered_runtime: {
        layers: [
          {
            name: 'global config',
            static_layer: {
              'overload.global_downstream_max_connections': 2147483647,
              'envoy.resource_limits.listener.a.connection_limit': 5,
            },
          },
        ],
      },
    });
    const l = connectionLimitsFrom(b);
    assert.equal(l.globalMax, 2147483647);
    assert.equal(l.listenerMax('a'), 5);
    assert.equal(l.listenerMax('b'), Infinity);
    const om = fromEnvoyYaml({
      overload_manager: {
        resource_monitors: [
          {
            name: 'envoy.resource_monitors.global_downstream_max_connections',
            typed_config: {
              '@type':
                'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
              max_active_downstream_connections: 7,
            },
          },
        ],
      },
    });
    assert.equal(connectionLimitsFrom(om).globalMax, 7);
    const bad = fromEnvoyYaml({
      layered_runtime: {
        layers: [{ name: 'x', static_layer: { 'overload.global_downstream_max_connections': -1 } }],
      },
    });
    assert.throws(
      () => connectionLimitsFrom(bad),
      /overload\.global_downstream_max_connections: expected a positive number/,
    );
  });

  it('closes connections over overload.global_downstream_max_connections at accept', async () => {
    const p = await proxyWith({
      layeredRuntime: {
        layers: [
          {
            name: 'l',
            staticLayer: { fields: { 'overload.global_downstream_max_connections': { numberValue: 2 } } },
          },
        ],
      },
    });
    const held: Socket[] = [];
    try {
      held.push(await open(p.listenerPort('a')), await open(p.listenerPort('b')));
      const third = await open(p.listenerPort('a'));
      await new Promise((r) => third.once('close', r));
      assert.equal(await counter(p, /^listener\..*\.downstream_global_cx_overflow: (\d+)/), 1);
      for (const s of held) s.destroy();
      // Below the limit again: served.
      await waitFor(
        'a served request',
        async () => (await get(p.listenerPort('a'), '/').catch(() => ({ status: 0 }))).status === 200,
      );
    } finally {
      for (const s of held) s.destroy();
      await p.close();
    }
  });

  it('limits one listener with envoy.resource_limits.listener.<name>.connection_limit', async () => {
    const p = await proxyWith({
      layeredRuntime: {
        layers: [
          {
            name: 'l',
            staticLayer: {
              fields: { 'envoy.resource_limits.listener.a.connection_limit': { numberValue: 1 } },
            },
          },
        ],
      },
    });
    const held: Socket[] = [];
    try {
      held.push(await open(p.listenerPort('a')));
      const over = await open(p.listenerPort('a'));
      await new Promise((r) => over.once('close', r));
      assert.equal(await counter(p, /^listener\..*\.downstream_cx_overflow: (\d+)/), 1);
      assert.equal((await get(p.listenerPort('b'), '/')).status, 200);
    } finally {
      for (const s of held) s.destroy();
      await p.close();
    }
  });
});
