// Route table compilation and matching without sockets: Envoy's virtual host precedence, path/header/
// query matchers, pseudo headers, invert/present semantics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderMap } from './header-mutation.js';
import type { RouteRequest } from './route-entry.js';
import { RouteTable } from './route-table.js';

function req(authority: string, path: string, method = 'GET', headers: HeaderMap = {}): RouteRequest {
  const q = path.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? path.slice(q + 1) : '');
  return {
    method,
    path,
    authority,
    scheme: 'http',
    headers,
    pathOnly: q >= 0 ? path.slice(0, q) : path,
    isGrpc: String(headers['content-type'] ?? '').startsWith('application/grpc'),
    queryParam: (n: string) => query.get(n) ?? undefined,
    pseudo: (n: string) =>
      n === ':method'
        ? method
        : n === ':authority'
          ? authority
          : n === ':path'
            ? path
            : n === ':scheme'
              ? 'http'
              : undefined,
  };
}

const none = (): null => null;
const r = (name: string, match: Record<string, unknown>): any => ({ name, match, route: { cluster: name } });

describe('route table', () => {
  const table = new RouteTable(
    {
      name: 'rt',
      virtualHosts: [
        { name: 'exact', domains: ['reviews', 'reviews:9080'], routes: [r('exact', { prefix: '/' })] },
        { name: 'suffix-long', domains: ['*.api.example.com'], routes: [r('suffix-long', { prefix: '/' })] },
        { name: 'suffix', domains: ['*.example.com'], routes: [r('suffix', { prefix: '/' })] },
        { name: 'prefix', domains: ['internal.*'], routes: [r('prefix', { prefix: '/' })] },
        {
          name: 'any',
          domains: ['*'],
          routes: [
            r('method', { prefix: '/m', headers: [{ name: ':method', stringMatch: { exact: 'POST' } }] }),
            r('present', { prefix: '/p', headers: [{ name: 'x-token', presentMatch: true }] }),
            r('absent', { prefix: '/p', headers: [{ name: 'x-token', presentMatch: false }] }),
            r('not-jason', {
              prefix: '/i',
              headers: [{ name: 'end-user', stringMatch: { exact: 'jason' }, invertMatch: true }],
            }),
            r('suffix-h', { prefix: '/h', headers: [{ name: 'x-v', stringMatch: { suffix: '-beta' } }] }),
            r('regex-h', { prefix: '/h', headers: [{ name: 'x-v', safeRegexMatch: { regex: 'v[0-9]+' } }] }),
            r('query', { prefix: '/q', queryParameters: [{ name: 'debug', presentMatch: true }] }),
            r('exact-path', { path: '/exact' }),
            r('regex-path', { safeRegex: { regex: '/items/[0-9]+' } }),
            r('ci', { prefix: '/CaSe', caseSensitive: { value: false } }),
            r('sep', { pathSeparatedPrefix: '/api' }),
            r('grpc', { prefix: '/svc.', grpc: {} }),
          ],
        },
      ],
    },
    none,
  );
  const pick = (authority: string, path: string, method?: string, headers?: HeaderMap): string | null =>
    table.route(req(authority, path, method, headers))?.route.name ?? null;

  it('selects virtual hosts: exact, then longest suffix wildcard, then prefix wildcard, then *', () => {
    assert.equal(pick('reviews', '/'), 'exact');
    assert.equal(pick('Reviews:9080', '/'), 'exact');
    assert.equal(pick('a.api.example.com', '/'), 'suffix-long');
    assert.equal(pick('b.example.com', '/'), 'suffix');
    assert.equal(pick('example.com', '/exact'), 'exact-path');
    assert.equal(pick('internal.corp', '/'), 'prefix');
    assert.equal(pick('other', '/exact'), 'exact-path');
  });

  it('matches pseudo headers, present/absent, invert, suffix and regex header matchers', () => {
    assert.equal(pick('x', '/m', 'POST'), 'method');
    assert.equal(pick('x', '/m', 'GET'), null);
    assert.equal(pick('x', '/p', 'GET', { 'x-token': 'abc' }), 'present');
    assert.equal(pick('x', '/p'), 'absent');
    assert.equal(pick('x', '/i', 'GET', { 'end-user': 'bob' }), 'not-jason');
    assert.equal(pick('x', '/i', 'GET', { 'end-user': 'jason' }), null);
    // A missing header never matches a value matcher, even inverted (Envoy).
    assert.equal(pick('x', '/i'), null);
    assert.equal(pick('x', '/h', 'GET', { 'x-v': 'v2-beta' }), 'suffix-h');
    assert.equal(pick('x', '/h', 'GET', { 'x-v': 'v22' }), 'regex-h');
    assert.equal(pick('x', '/h', 'GET', { 'x-v': 'xv22' }), null);
  });

  it('matches paths: exact, full-string regex, case-insensitive prefix, separated prefix, query, gRPC', () => {
    assert.equal(pick('x', '/q?debug'), 'query');
    assert.equal(pick('x', '/q?other=1'), null);
    assert.equal(pick('x', '/exact?x=1'), 'exact-path');
    assert.equal(pick('x', '/exactly'), null);
    assert.equal(pick('x', '/items/42'), 'regex-path');
    assert.equal(pick('x', '/items/42/more'), null);
    assert.equal(pick('x', '/case/x'), 'ci');
    assert.equal(pick('x', '/api'), 'sep');
    assert.equal(pick('x', '/api/v1'), 'sep');
    assert.equal(pick('x', '/apix'), null);
    assert.equal(pick('x', '/svc.Foo/Bar', 'POST', { 'content-type': 'application/grpc' }), 'grpc');
    assert.equal(pick('x', '/svc.Foo/Bar', 'POST'), null);
  });

  it('rejects a bad regex naming the field', () => {
    assert.throws(
      () =>
        new RouteTable(
          {
            name: 'bad',
            virtualHosts: [{ name: 'v', domains: ['*'], routes: [r('x', { safeRegex: { regex: '[' } })] }],
          },
          none,
        ),
      /bad: virtualHosts\[0\]\.routes\[0\]\(x\)\.match\.safeRegex\.regex: invalid RE2 regex/,
    );
  });
});
