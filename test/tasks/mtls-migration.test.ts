// Istio's "Mutual TLS Migration" task on a real local mesh in pod network mode (`mizzen up
// examples/mtls-migration -d`, each pod in its own network namespace): a client without a sidecar
// reaches httpbin under PERMISSIVE and is refused under STRICT (namespace and workload level) while
// sidecar clients keep working; port-level DISABLE re-opens one port; STRICT also covers ports no
// service declares (the inbound passthrough). Clients run `curl` in the pods with `mizzen exec`, as
// the task does with `kubectl exec`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyYaml,
  eventually,
  EXAMPLES,
  meshDown,
  meshUp,
  mizzen,
  newMesh,
  runState,
  type Mesh,
} from './mesh.js';

let mesh: Mesh | undefined;

function m(): Mesh {
  assert.ok(mesh, 'the mesh did not start');
  return mesh;
}

/**
 * `mizzen exec sleep -n FROM -- curl -s -o /dev/null -w "%{http_code}" URL`, as the task's
 * `kubectl exec "$(kubectl get pod -l app=sleep -n FROM ...)" -c sleep -n FROM -- curl ...`: the
 * status curl saw ('000' when the connection was refused or reset).
 */
async function curlFrom(from: string, url: string): Promise<string> {
  const r = await mizzen([
    'exec',
    'sleep',
    '-n',
    from,
    '--run-dir',
    m().run,
    '--',
    'curl',
    '-s',
    '-m',
    '10',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    url,
  ]);
  return r.out.trim() || `exit ${r.code}: ${r.err}`;
}

/** `curl http://httpbin.TO:8000/ip` from sleep in namespace FROM: the status. */
const curl = (from: string, to: string): Promise<string> => curlFrom(from, `http://httpbin.${to}:8000/ip`);

/** A pod in foo that no Service selects, listening on 9090 on every address of its namespace. */
const UNDECLARED = `apiVersion: apps/v1
kind: Deployment
metadata: { name: undeclared, namespace: foo }
spec:
  replicas: 1
  selector: { matchLabels: { app: undeclared } }
  template:
    metadata: { labels: { app: undeclared } }
    spec:
      containers:
        - name: app
          image: node
          command: ["node", "-e", "require('http').createServer((q, s) => s.end('ok')).listen(9090, '0.0.0.0', () => console.log('listening on 0.0.0.0:9090'))"]
`;

/** The undeclared pod's IP (it has no Service, so clients call it by address). */
function undeclaredIp(): string {
  const pod = runState(m()).pods.find((p) => p.workload === 'undeclared');
  assert.ok(pod, 'no undeclared pod');
  return pod.podIp;
}

const pa = (ns: string, name: string, spec: string): string =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: ${spec}\n`;

describe('mutual TLS migration', () => {
  before(async () => {
    mesh = await newMesh();
    // Pod network mode: the legacy pod has no inbound capture; its outbound goes to a plaintext
    // stand-in for kube-proxy.
    await meshUp(mesh, `${EXAMPLES}mtls-migration`, ['--network', 'pod']);
    await applyYaml(mesh, UNDECLARED);
  });
  after(() => meshDown(mesh));

  it('PERMISSIVE by default: every client, with or without a sidecar, reaches both httpbins', async () => {
    for (const from of ['foo', 'bar', 'legacy'])
      for (const to of ['foo', 'bar'])
        await eventually(
          `sleep.${from} → httpbin.${to}: 200`,
          async () => (await curl(from, to)) === '200',
          20_000,
        );
  });

  it('PERMISSIVE by default on a port no service declares (inbound passthrough)', async () => {
    for (const from of ['foo', 'legacy'])
      await eventually(
        `sleep.${from} → undeclared:9090: 200`,
        async () => (await curlFrom(from, `http://${undeclaredIp()}:9090/`)) === '200',
        60_000,
      );
  });

  it('STRICT in namespace foo refuses the legacy client there only; sidecar clients keep working', async () => {
    await applyYaml(m(), pa('foo', 'default', '{ mtls: { mode: STRICT } }'));
    await eventually(
      'sleep.legacy → httpbin.foo refused',
      async () => (await curl('legacy', 'foo')) !== '200',
      20_000,
    );
    assert.equal(await curl('legacy', 'bar'), '200');
    assert.equal(await curl('foo', 'foo'), '200');
    assert.equal(await curl('bar', 'foo'), '200');
    // The inbound passthrough is STRICT too: plaintext to a port no service declares is refused.
    await eventually(
      'sleep.legacy → undeclared:9090 refused',
      async () => (await curlFrom('legacy', `http://${undeclaredIp()}:9090/`)) !== '200',
      20_000,
    );
  });

  it('workload-level STRICT on httpbin.bar; port-level DISABLE re-opens foo port 8080', async () => {
    await applyYaml(
      m(),
      pa('bar', 'httpbin', '{ selector: { matchLabels: { app: httpbin } }, mtls: { mode: STRICT } }'),
    );
    await eventually(
      'sleep.legacy → httpbin.bar refused',
      async () => (await curl('legacy', 'bar')) !== '200',
      20_000,
    );
    assert.equal(await curl('foo', 'bar'), '200');
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
      async () => (await curl('legacy', 'foo')) === '200',
      20_000,
    );
    assert.equal(await curl('bar', 'foo'), '200');
  });
});
