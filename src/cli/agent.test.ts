// `mizzen agent` as a process: usage errors, a plaintext-only bootstrap written at once without a
// token (no certificate provider for gRPC to miss), and the file re-read interval for short lifetimes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runMizzen } from './test-util.js';
import { waitFor } from '../api/test-util.js';
import { refreshSeconds } from './agent.js';

const ID = 'sidecar~127.0.0.1~client-0.foo~foo.svc.cluster.local';

test('mizzen agent: usage errors name the missing flag', async () => {
  const noXds = await runMizzen(['agent', '--id', ID, '--grpc-bootstrap', '/tmp/x.json']);
  assert.equal(noXds.code, 2);
  assert.match(noXds.err, /need --xds-address/);
  const noCerts = await runMizzen([
    'agent',
    '--xds-address',
    '127.0.0.1:1',
    '--id',
    ID,
    '--grpc-bootstrap',
    '/tmp/x.json',
    '--token-file',
    '/tmp/t.jwt',
  ]);
  assert.equal(noCerts.code, 2);
  assert.match(noCerts.err, /--token-file needs --output-certs/);
  const noToken = await runMizzen([
    'agent',
    '--xds-address',
    '127.0.0.1:1',
    '--id',
    ID,
    '--grpc-bootstrap',
    '/tmp/x.json',
    '--output-certs',
    '/tmp/certs',
  ]);
  assert.equal(noToken.code, 2);
  assert.match(noToken.err, /--output-certs needs --token-file/);
});

test('mizzen agent without a token writes a plaintext-only bootstrap at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-agent-'));
  const file = join(dir, 'bootstrap.json');
  const child = spawn(
    process.execPath,
    [BIN, 'agent', '--xds-address', '127.0.0.1:15010', '--id', ID, '--metadata', '{"NAMESPACE":"foo"}'],
    { stdio: 'ignore', env: { ...process.env, GRPC_XDS_BOOTSTRAP: file } },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await waitFor('the bootstrap', () => existsSync(file), 20_000);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
      xds_servers: [
        { server_uri: '127.0.0.1:15010', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: { id: ID, locality: {}, metadata: { NAMESPACE: 'foo', GENERATOR: 'grpc' } },
      server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
    });
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM ends the agent cleanly');
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mizzen agent: gRPC re-reads the files every 900 s (Istio's), sooner for short lifetimes", () => {
  assert.equal(refreshSeconds(0, 0.5), 900);
  assert.equal(refreshSeconds(86400, 0.5), 900);
  assert.equal(refreshSeconds(20, 0.5), 2);
  assert.equal(refreshSeconds(4, 0.5), 1);
});
