// A sidecar pays only for what its config uses (#17's footprint): without regexes, JWT, OTLP tracing, a
// bootstrap file or an xDS server, the proxy loads neither re2js, jose, yaml, OpenTelemetry nor gRPC.
// ES modules are seen through a resolve hook registered before the proxy's modules are imported;
// CommonJS ones (re2js and yaml are required on first use) in require.cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const HOOK = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  port.postMessage(specifier);
  return next(specifier, context);
}`;

const { port1, port2 } = new MessageChannel();
register(`data:text/javascript,${encodeURIComponent(HOOK)}`, import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});
const resolved: string[] = [];
port1.on('message', (s: string) => resolved.push(s));
port1.unref();

/** Every specifier resolved so far: a marker import goes through the same port, after all earlier ones. */
async function resolvedSoFar(): Promise<readonly string[]> {
  const marker = `data:text/javascript,export default ${Date.now()}${Math.random()}`.replace('.', '');
  await import(marker);
  const deadline = Date.now() + 10_000;
  while (!resolved.includes(marker)) {
    if (Date.now() > deadline) throw new Error('the resolve hook never reported the marker import');
    await new Promise((r) => setTimeout(r, 10));
  }
  return resolved;
}

const require = createRequire(import.meta.url);
const required = (m: string): boolean => require.cache[require.resolve(m)] !== undefined;

// re2js and yaml too: a static import of either would be resolved here, not required.
const LAZY_ESM = ['jose', '@grpc/grpc-js', '@opentelemetry/', 're2js', 'yaml'];

test('a proxy without regex, JWT, tracing, bootstrap file or xDS loads none of their libraries', async () => {
  const backend = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const backendPort = (backend.address() as { port: number }).port;
  const { Proxy } = await import('./proxy.js');
  const { bootstrapFrom } = await import('./bootstrap/bootstrap.js');
  const listener = (
    name: string,
    match: Record<string, unknown>,
    filters: Record<string, unknown>[],
  ): Record<string, unknown> => ({
    name,
    address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              statPrefix: name,
              routeConfig: {
                name,
                virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match, route: { cluster: 'b' } }] }],
              },
              httpFilters: [
                ...filters,
                {
                  name: 'envoy.filters.http.router',
                  typedConfig: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  });
  const cluster = {
    name: 'b',
    type: 'STATIC' as const,
    connectTimeout: { seconds: 1 },
    loadAssignment: {
      clusterName: 'b',
      endpoints: [
        {
          lbEndpoints: [
            { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: backendPort } } } },
          ],
        },
      ],
    },
  };
  // A jwt_authn filter with a provider and no rules: it verifies nothing, but configuring it loads jose.
  const jwtAuthn = {
    name: 'envoy.filters.http.jwt_authn',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: { p: { issuer: 'https://issuer.example', localJwks: { inlineString: '{"keys":[]}' } } },
    },
  };
  const start = (name: string, match: Record<string, unknown>, filters: Record<string, unknown>[] = []) =>
    Proxy.start({
      bootstrap: bootstrapFrom({
        staticResources: { listeners: [listener(name, match, filters)], clusters: [cluster] },
      }),
      adminPort: 0,
      logLevel: 'warning',
    });

  try {
    await plainProxyLoadsNothing();
    await aConfigLoadsWhatItNeeds();
  } finally {
    backend.close();
  }

  async function plainProxyLoadsNothing(): Promise<void> {
    const plain = await start('plain', { prefix: '/' });
    try {
      const res = await fetch(`http://127.0.0.1:${plain.listenerPort('plain')}/x`);
      assert.equal(await res.text(), 'ok');
      const seen = await resolvedSoFar();
      assert.ok(
        seen.some((s) => s.endsWith('proxy.js')),
        'the hook saw the proxy being loaded',
      );
      for (const m of LAZY_ESM)
        assert.equal(
          seen.find((s) => s === m || s.startsWith(m)),
          undefined,
          `${m} was loaded by a proxy that does not use it`,
        );
      assert.equal(required('re2js'), false, 're2js without a regex');
      assert.equal(required('yaml'), false, 'yaml without a bootstrap file');
    } finally {
      await plain.close();
    }
  }

  // The same checks see a library once a config needs it.
  async function aConfigLoadsWhatItNeeds(): Promise<void> {
    const regex = await start('regex', { safeRegex: { regex: '/v[0-9]+/.*' } }, [jwtAuthn]);
    try {
      assert.equal(required('re2js'), true, 'a safe_regex route loads re2js');
      const res = await fetch(`http://127.0.0.1:${regex.listenerPort('regex')}/v2/x`);
      assert.equal(await res.text(), 'ok');
      // The filter starts loading jose in the background when it is configured.
      const deadline = Date.now() + 10_000;
      while (!(await resolvedSoFar()).includes('jose')) {
        assert.ok(Date.now() < deadline, 'a configured jwt_authn filter never loaded jose');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await regex.close();
    }
  }
});
