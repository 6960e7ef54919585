// End to end as users run it: `node bin/mizzen.js proxy --bootstrap FILE` as a child process with an
// Envoy-style snake_case YAML bootstrap; ports found through the ready file; Istio access log on stdout.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { get, startBackend, type Backend } from './test-util.js';

const BIN = fileURLToPath(new URL('../../../bin/mizzen.js', import.meta.url));

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
  let child: ChildProcess;
  let stdout = '';
  let ports: { adminPort: number; listeners: Record<string, string> };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mizzen-proxy-'));
    backend = await startBackend('api');
    const file = join(dir, 'bootstrap.yaml');
    writeFileSync(file, bootstrapYaml(backend.port));
    const ready = join(dir, 'ready.json');
    child = spawn(
      process.execPath,
      [BIN, 'proxy', '--bootstrap', file, '--ready-file', ready, '--access-log', '--log-level', 'warning'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', () => {});
    const deadline = Date.now() + 20_000;
    while (!existsSync(ready)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`proxy did not become ready (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ports = JSON.parse(readFileSync(ready, 'utf8'));
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves traffic from the YAML bootstrap and writes the Istio access log line', async () => {
    const port = Number(ports.listeners['0.0.0.0_8080'].split(':')[1]);
    const r = await get(port, '/API/v1', { 'user-agent': 'cli-test', 'x-request-id': 'rid-1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['server'], 'istio-envoy');
    for (let i = 0; i < 50 && !stdout.includes('rid-1'); i++) await new Promise((res) => setTimeout(res, 20));
    const line = stdout.split('\n').find((l) => l.includes('rid-1'))!;
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
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    assert.equal((await get(ports.adminPort, '/quitquitquit', {}, 'POST')).status, 200);
    assert.equal(await exited, 0);
  });
});
