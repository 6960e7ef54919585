// MeshConfig enablePrometheusMerge: false on a real local mesh (`mizzen up` of test/fixtures/app-metrics
// plus ConfigMap istio-system/istio): the sidecar does not merge the app's metrics into :15020, the app
// still answers on its own annotated port, and the field is not warned about as unread.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { meshDown, meshUp, newMesh, podOf, request, type Mesh } from './mesh.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/app-metrics', import.meta.url));
/** The apps import prom-client: the copy resolves them through a node_modules link beside it (not inside: up would load its files). */
const NODE_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url));

const MESH_CONFIG = `apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |
    enablePrometheusMerge: false
`;

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

describe('MeshConfig enablePrometheusMerge: false on mizzen up', { timeout: 300_000 }, () => {
  before(async () => {
    mesh = await newMesh();
    const dir = join(mesh.tmp, 'app-metrics');
    cpSync(FIXTURE, dir, { recursive: true });
    symlinkSync(NODE_MODULES, join(mesh.tmp, 'node_modules'));
    writeFileSync(join(dir, 'mesh-config.yaml'), MESH_CONFIG);
    await meshUp(mesh, dir, ['--network', 'host']);
  });

  after(() => meshDown(mesh));

  it('is read, not warned about', () => {
    assert.doesNotMatch(m().upOutput, /enablePrometheusMerge/);
  });

  it("the sidecar's :15020 has the proxy's metrics but not the app's; the app answers on its own port", async () => {
    const shop = podOf(m(), 'shop');
    const r = await request(`http://${shop.podIp}:8080/`);
    assert.equal(r.status, 200, r.error ?? r.body);
    const merged = await request(`http://${shop.podIp}:15020/stats/prometheus`);
    assert.equal(merged.status, 200);
    assert.match(merged.body, /^envoy_server_live 1$/m, "the proxy's own stats");
    assert.doesNotMatch(merged.body, /^shop_orders_total/m, "the app's metrics are not merged");
    // Where targets.json sends Prometheus for it (the app's address: 127.2.x.y in host network mode).
    const app = await request(`http://${shop.appIp}:9102/custom/metrics`);
    assert.equal(app.status, 200, app.error ?? app.body);
    assert.match(app.body, /^shop_orders_total\{kind="web"\} 1$/m);
  });
});
