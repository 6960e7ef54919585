// Istio's "Mutual TLS Migration" task on a real local mesh (`mizzen up examples/mtls-migration -d`):
// a client without a sidecar reaches httpbin under PERMISSIVE and is refused under STRICT (namespace
// and workload level) while sidecar clients keep working; port-level DISABLE re-opens one port.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyYaml,
  eventually,
  EXAMPLES,
  meshDown,
  meshUp,
  newMesh,
  request,
  runState,
  type Mesh,
} from './mesh.js';

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/** `curl http://httpbin.<to>:8000/ip` from sleep in namespace `from` (through its HTTP_PROXY): the status. */
async function curl(from: string, to: string): Promise<number> {
  const pod = runState(m()).pods.find((p) => p.workload === 'sleep' && p.namespace === from);
  assert.ok(pod, `no sleep pod in ${from}`);
  const r = await request(`http://httpbin.${to}:8000/ip`, { proxy: `${pod.podIp}:15001`, timeoutMs: 10_000 });
  return r.status;
}

const pa = (ns: string, name: string, spec: string): string =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: ${spec}\n`;

describe('mutual TLS migration', () => {
  before(async () => {
    mesh = await newMesh();
    // Host network: each client's HTTP_PROXY is its sidecar (or, in legacy, the plaintext stand-in).
    await meshUp(mesh, `${EXAMPLES}mtls-migration`, ['--network', 'host']);
  });
  after(() => meshDown(mesh));

  it('PERMISSIVE by default: every client, with or without a sidecar, reaches both httpbins', async () => {
    for (const from of ['foo', 'bar', 'legacy'])
      for (const to of ['foo', 'bar'])
        await eventually(
          `sleep.${from} → httpbin.${to}: 200`,
          async () => (await curl(from, to)) === 200,
          20_000,
        );
  });

  it('STRICT in namespace foo refuses the legacy client there only; sidecar clients keep working', async () => {
    await applyYaml(m(), pa('foo', 'default', '{ mtls: { mode: STRICT } }'));
    await eventually(
      'sleep.legacy → httpbin.foo refused',
      async () => (await curl('legacy', 'foo')) !== 200,
      20_000,
    );
    assert.equal(await curl('legacy', 'bar'), 200);
    assert.equal(await curl('foo', 'foo'), 200);
    assert.equal(await curl('bar', 'foo'), 200);
  });

  it('workload-level STRICT on httpbin.bar; port-level DISABLE re-opens foo port 8080', async () => {
    await applyYaml(
      m(),
      pa('bar', 'httpbin', '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT } }'),
    );
    await eventually(
      'sleep.legacy → httpbin.bar refused',
      async () => (await curl('legacy', 'bar')) !== 200,
      20_000,
    );
    assert.equal(await curl('foo', 'bar'), 200);
    await applyYaml(
      m(),
      pa(
        'foo',
        'httpbin',
        '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT }, portLevelMtls: { "8080": { mode: DISABLE } } }',
      ),
    );
    await eventually(
      'sleep.legacy → httpbin.foo open again',
      async () => (await curl('legacy', 'foo')) === 200,
      20_000,
    );
    assert.equal(await curl('bar', 'foo'), 200);
  });
});
