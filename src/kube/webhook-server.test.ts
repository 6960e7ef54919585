// The admission webhooks of `mizzen server --webhook-address`, over real HTTPS with AdmissionReview v1 bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerWith } from '../cli/server-test-util.js';

/** A self-signed certificate for the webhook Service name and 127.0.0.1, made by openssl. */
function certificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=istiod.istio-system.svc',
      '-addext',
      'subjectAltName=DNS:istiod.istio-system.svc,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function post(
  address: string,
  ca: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: any }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path, method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const reviewOf = (object: unknown, kind: string, operation = 'CREATE'): unknown => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: `uid-${kind}`, kind: { kind }, operation, namespace: 'default', object },
});

/** Applies a JSON Patch made only of `add` operations (what the injector sends). */
function applyAdds(doc: any, patch: { op: string; path: string; value: unknown }[]): any {
  const out = structuredClone(doc);
  for (const p of patch) {
    assert.equal(p.op, 'add');
    const keys = p.path.split('/').slice(1);
    let at = out;
    for (const k of keys.slice(0, -1)) at = at[k] ??= {};
    at[keys.at(-1)!] = p.value;
  }
  return out;
}

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'httpbin-5d9c8f-', labels: { app: 'httpbin', 'pod-template-hash': '5d9c8f' } },
  spec: { serviceAccountName: 'httpbin', containers: [{ name: 'httpbin', image: 'httpbin:1' }] },
};

test('webhooks over HTTPS: a bad VirtualService is refused with field and message; pods get the sidecar as a JSON Patch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-webhook-'));
  const { cert, key } = certificate(dir);
  const server = await startServerWith([
    '--config',
    dir,
    '--webhook-address',
    '127.0.0.1:0',
    '--webhook-cert',
    cert,
    '--webhook-key',
    key,
    '--inject-discovery-address',
    'istiod-a:15010,istiod-b:15010',
  ]);
  try {
    const address = /webhook listening on (\S+)/.exec(server.stdout())![1];
    const ca = readFileSync(cert, 'utf8');
    const vs = (extra: Record<string, unknown>) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }], ...extra },
    });

    let r = await post(address, ca, '/validate', reviewOf(vs({ htp: [] }), 'VirtualService'));
    assert.equal(r.status, 200);
    assert.equal(r.body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(r.body.response.uid, 'uid-VirtualService');
    assert.equal(r.body.response.allowed, false);
    assert.equal(r.body.response.status.code, 400);
    assert.match(
      r.body.response.status.message,
      /^configuration is invalid: VirtualService default\/reviews: spec\.htp: unknown field "htp"/,
    );
    r = await post(address, ca, '/validate', reviewOf(vs({}), 'VirtualService'));
    assert.equal(r.body.response.allowed, true);
    r = await post(address, ca, '/validate', reviewOf(vs({ htp: [] }), 'VirtualService', 'DELETE'));
    assert.equal(r.body.response.allowed, true, 'deletes are never refused');

    r = await post(address, ca, '/inject', reviewOf(POD, 'Pod'));
    assert.equal(r.body.response.allowed, true);
    assert.equal(r.body.response.patchType, 'JSONPatch');
    const pod = applyAdds(POD, JSON.parse(Buffer.from(r.body.response.patch, 'base64').toString()));
    assert.deepEqual(
      pod.spec.containers.map((c: any) => c.name),
      ['httpbin', 'istio-proxy'],
    );
    assert.deepEqual(
      pod.spec.initContainers.map((c: any) => c.name),
      ['istio-init'],
    );
    const env = Object.fromEntries(pod.spec.containers[1].env.map((e: any) => [e.name, e.value]));
    assert.equal(env.ISTIO_META_WORKLOAD_NAME, 'httpbin');
    assert.equal(env.MIZZEN_XDS_ADDRESS, 'istiod-a:15010,istiod-b:15010');
    assert.equal(pod.metadata.labels['security.istio.io/tlsMode'], 'istio');
    // The projected service-account token the proxy sends to the CA (audience istio-ca).
    const token = pod.spec.volumes.find((v: any) => v.name === 'istio-token');
    assert.equal(token.projected.sources[0].serviceAccountToken.audience, 'istio-ca');
    assert.deepEqual(pod.spec.containers[1].volumeMounts, [
      { name: 'istio-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
    ]);
    assert.match(pod.spec.containers[1].command[2], /--token-file \/var\/run\/secrets\/tokens\/istio-token/);

    const optOut = {
      ...POD,
      metadata: { ...POD.metadata, annotations: { 'sidecar.istio.io/inject': 'false' } },
    };
    r = await post(address, ca, '/inject', reviewOf(optOut, 'Pod'));
    assert.equal(r.body.response.allowed, true);
    assert.equal(r.body.response.patch, undefined);

    const bad = {
      ...POD,
      metadata: { ...POD.metadata, annotations: { 'sidecar.istio.io/proxyCPU': 'lots' } },
    };
    r = await post(address, ca, '/inject', reviewOf(bad, 'Pod'));
    assert.equal(r.body.response.allowed, false);
    assert.match(
      r.body.response.status.message,
      /metadata\.annotations\["sidecar\.istio\.io\/proxyCPU"\]: .*"lots"/,
    );

    r = await post(address, ca, '/validate', {
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      request: { uid: 'x' },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /admissionReviewVersions: \["v1"\]/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
