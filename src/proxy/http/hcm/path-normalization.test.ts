// Path normalization before routing: Envoy's canonical path, merge_slashes and escaped-slash actions,
// and raw requests that must not slip past a rule on /admin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../../test-util.js';
import { canonicalPath, compilePathNormalizer, PathVerdict } from './path-normalization.js';
import { exchange } from './raw-wire.js';
import type { envoy_extensions_filters_network_http_connection_manager_v3_HttpConnectionManager as HttpConnectionManager } from '../../../xds/envoy-types.js';

describe('canonicalPath', () => {
  const cases: [string, string | null][] = [
    ['/a/b', '/a/b'],
    ['/public/../admin', '/admin'],
    ['/x/%2e%2e/admin', '/admin'],
    ['/x/%2E%2E/admin', '/admin'],
    ['/%61dmin', '/admin'],
    ['/a/./b/.', '/a/b/'],
    ['/../../etc', '/etc'],
    ['/a\\..\\admin', '/admin'],
    ['/a/%2fb', '/a/%2Fb'],
    ['/a//b', '/a//b'],
    ['/a b', '/a%20b'],
    ['/100%', '/100%'],
    ['*', null],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want}`, () => assert.equal(canonicalPath(input), want));
  }
});

describe('compilePathNormalizer', () => {
  it('is null when nothing is configured (NONE)', () => {
    assert.equal(compilePathNormalizer({}), null);
    assert.equal(compilePathNormalizer({ normalizePath: { value: false } }), null);
  });
  it('merges slashes after normalizing and keeps the query', () => {
    const n = compilePathNormalizer({ normalizePath: { value: true }, mergeSlashes: true })!;
    assert.deepEqual(n.apply('//a/./b//c?x=/../y'), {
      verdict: PathVerdict.Continue,
      path: '/a/b/c?x=/../y',
    });
  });
  it('applies path_with_escaped_slashes_action', () => {
    const rej = compilePathNormalizer({ pathWithEscapedSlashesAction: 'REJECT_REQUEST' })!;
    assert.equal(rej.apply('/a%2Fb').verdict, PathVerdict.Reject);
    assert.equal(rej.apply('/a/b').verdict, PathVerdict.Continue);
    const red = compilePathNormalizer({ pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' })!;
    assert.deepEqual(red.apply('/a%2fb?q'), { verdict: PathVerdict.Redirect, path: '/a/b?q' });
    const fwd = compilePathNormalizer({
      normalizePath: { value: true },
      pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD',
    })!;
    assert.deepEqual(fwd.apply('/x/..%2Fadmin'), { verdict: PathVerdict.Continue, path: '/admin' });
    assert.throws(
      // An enum value this proxy does not know (config from a newer control plane).
      () =>
        compilePathNormalizer(
          JSON.parse('{"pathWithEscapedSlashesAction": "SOMETIMES"}') as HttpConnectionManager,
        ),
      /pathWithEscapedSlashesAction/,
    );
  });
});

describe('path normalization in front of route rules', () => {
  let backend: Backend;
  let proxy: Proxy;
  const port: Record<string, number> = {};

  before(async () => {
    backend = await startBackend('b');
    const routes = routeConfig('r', [
      {
        match: { prefix: '/admin' },
        directResponse: { status: 403, body: { inlineString: 'admin is closed' } },
      },
      { match: { prefix: '/' }, route: { cluster: 'b' } },
    ]);
    proxy = await startProxy(
      [
        httpListener('base', hcm(routes, { normalizePath: true })),
        httpListener('none', hcm(routes)),
        httpListener('merge', hcm(routes, { normalizePath: true, mergeSlashes: true })),
        httpListener(
          'decode',
          hcm(routes, {
            normalizePath: true,
            mergeSlashes: true,
            pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD',
          }),
        ),
      ],
      [staticCluster('b', [backend.port])],
    );
    for (const l of ['base', 'none', 'merge', 'decode']) port[l] = proxy.listenerPort(l);
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  /** Sends one raw HTTP/1.1 request line; returns the status line's code and the body. */
  async function raw(listener: string, target: string): Promise<{ status: number; text: string }> {
    const got = await exchange(
      port[listener],
      `GET ${target} HTTP/1.1\r\nHost: t.local\r\nConnection: close\r\n\r\n`,
    );
    const text = got.toString();
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
  }

  for (const target of ['/public/../admin', '/x/%2e%2e/admin', '/%61dmin', '/public/..\\admin', '/./admin']) {
    it(`BASE: ${target} is judged as /admin`, async () => {
      const r = await raw('base', target);
      assert.equal(r.status, 403, r.text);
      assert.match(r.text, /admin is closed/);
    });
  }

  it('BASE: the backend receives the normalized path', async () => {
    const r = await raw('base', '/a/./b/../c?q=1');
    assert.equal(r.status, 200, r.text);
    assert.equal(backend.seen.at(-1)?.url, '/a/c?q=1');
  });

  it('refuses a #fragment with 400 before routing', async () => {
    const r = await raw('base', '/ok#frag');
    assert.equal(r.status, 400, r.text);
    const n = await raw('none', '/admin#x');
    assert.equal(n.status, 400, n.text);
  });

  it('NONE: paths are routed as received', async () => {
    const r = await raw('none', '/public/../admin');
    assert.equal(r.status, 200, r.text);
    assert.equal(backend.seen.at(-1)?.url, '/public/../admin');
  });

  it('MERGE_SLASHES: //admin is /admin; BASE keeps the double slash', async () => {
    assert.equal((await raw('merge', '//admin')).status, 403);
    assert.equal((await raw('base', '//admin')).status, 200);
  });

  it('DECODE_AND_MERGE_SLASHES: %2F is a slash before normalizing', async () => {
    assert.equal((await raw('decode', '/x/..%2Fadmin')).status, 403);
    assert.equal((await raw('merge', '/x/..%2Fadmin')).status, 200);
  });
});
