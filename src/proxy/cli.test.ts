// End to end as users run it: `node bin/mizzen.js proxy --bootstrap FILE` as a child process with an
// Envoy-style snake_case YAML bootstrap; ports found through the ready file; Istio access log on stdout.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMizzen } from '../cli/test-util.js';
import {
  get,
  listenerPort,
  spawnProxy,
  startBackend,
  type Backend,
  type ProxyChild,
  type ReadyPorts,
  waitFor,
} from './test-util.js';

function bootstrapYaml(backendPort: number): string {
  return `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
node: { id: router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local }
static_resources:
  listeners:
  - name: 0.0.0.0_8080
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: outbound_0.0.0.0_8080
          server_name: istio-envoy
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
          route_config:
            name: "8080"
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: /api, case_sensitive: false }
                route: { cluster: "outbound|8080||api.default.svc.cluster.local", timeout: 1.5s }
  clusters:
  - name: "outbound|8080||api.default.svc.cluster.local"
    type: STATIC
    connect_timeout: 0.25s
    load_assignment:
      cluster_name: "outbound|8080||api.default.svc.cluster.local"
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${backendPort} } } }
`;
}

describe('mizzen proxy --bootstrap (child process)', () => {
  let dir: string;
  let backend: Backend;
  let proxy: ProxyChild;
  let ports: ReadyPorts;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-proxy-'));
    backend = await startBackend('api');
    const file = join(dir, 'bootstrap.yaml');
    writeFileSync(file, bootstrapYaml(backend.port));
    proxy = await spawnProxy(
      ['--bootstrap', file, '--access-log', '--log-level', 'warning'],
      join(dir, 'ready.json'),
      20_000,
    );
    ports = proxy.ports;
  });

  after(async () => {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves traffic from the YAML bootstrap and writes the Istio access log line', async () => {
    const port = listenerPort(ports, '0.0.0.0_8080');
    const r = await get(port, '/API/v1', { 'user-agent': 'cli-test', 'x-request-id': 'rid-1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['server'], 'istio-envoy');
    await waitFor('the access log line', () => proxy.stdout().includes('rid-1'));
    const line = proxy
      .stdout()
      .split('\n')
      .find((l) => l.includes('rid-1'))!;
    assert.match(
      line,
      new RegExp(
        `^\\[\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\] "GET /API/v1 HTTP/1\\.1" 200 - via_upstream - "-" 0 \\d+ \\d+ \\d+ "-" "cli-test" "rid-1" "127\\.0\\.0\\.1:${port}" "127\\.0\\.0\\.1:${backend.port}" outbound\\|8080\\|\\|api\\.default\\.svc\\.cluster\\.local `,
      ),
    );
  });

  it('admin on the reported port; /quitquitquit exits with code 0', async () => {
    const s = await get(ports.adminPort, '/stats?filter=upstream_rq_total');
    assert.match(
      s.body,
      /cluster\.outbound\|8080\|\|api\.default\.svc\.cluster\.local\.upstream_rq_total: 1/,
    );
    assert.equal((await get(ports.adminPort, '/quitquitquit', {}, 'POST')).status, 200);
    assert.equal(await proxy.exited, 0);
  });
});

describe('mizzen proxy --bootstrap with an HTTP filter it does not implement', () => {
  it('exits 1 with one line naming the filter, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mizzen-proxy-cli-'));
    try {
      const file = join(dir, 'bootstrap.yaml');
      const yaml = bootstrapYaml(1).replace(
        '          http_filters:\n',
        '          http_filters:\n          - name: envoy.filters.http.grpc_json_transcoder\n' +
          '            typed_config: { "@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: x.y.Z }\n',
      );
      writeFileSync(file, yaml);
      const r = await runMizzen(['proxy', '--bootstrap', file, '--admin-port', '0', '--log-level', 'error']);
      assert.equal(r.code, 1);
      const lines = r.err.trim().split('\n');
      assert.equal(lines.length, 1, r.err);
      assert.match(
        lines[0],
        /^mizzen proxy: .*httpFilters\[0\] \(envoy\.filters\.http\.grpc_json_transcoder\): unknown HTTP filter/,
      );
      assert.doesNotMatch(r.err, /\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
