// `mizzen server --dns-address`: a real server process answers the mesh's names, says NXDOMAIN for the
// rest of cluster.local, and forwards other names to the --dns-upstream resolver (a real one on loopback).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { startServer, waitFor, type ServerProcess } from './server-test-util.js';
import { runMizzen } from './test-util.js';

const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: default }
spec:
  clusterIP: 10.96.9.9
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
`;

const rcode = (p: dnsPacket.Packet): number => (p.flags ?? 0) & 0xf;

function ask(port: number, name: string): Promise<dnsPacket.Packet> {
  const c = createSocket('udp4');
  return new Promise<dnsPacket.Packet>((resolve) => {
    c.once('message', (m) => {
      c.close();
      resolve(dnsPacket.decode(m));
    });
    c.send(
      dnsPacket.encode({
        type: 'query',
        id: 3,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'A', name }],
      }),
      port,
      '127.0.0.1',
    );
  });
}

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test('mizzen server --dns-address answers mesh names and forwards the rest to --dns-upstream', async () => {
  // The upstream: a real resolver on loopback that knows one outside name.
  const upstream = createSocket('udp4');
  const asked: string[] = [];
  upstream.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0].name;
    asked.push(name);
    const known = name === 'api.example.org';
    upstream.send(
      dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: known ? 0 : 3,
        questions: q.questions,
        answers: known ? [{ type: 'A', name, ttl: 60, class: 'IN', data: '192.0.2.44' }] : [],
      }),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => upstream.close());

  const dir = mkdtempSync(join(tmpdir(), 'mizzen-dns-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'svc.yaml'), SERVICE);
  const server: ServerProcess = await startServer(dir, [
    '--dns-address',
    '127.0.0.1:0',
    '--dns-upstream',
    `127.0.0.1:${upstream.address().port}`,
  ]);
  cleanup.push(() => server.stop());
  const line = await waitFor('the dns line', () =>
    /dns listening on 127\.0\.0\.1:(\d+); (.*)/.exec(server.stdout()),
  );
  assert.equal(line[2], `other names forwarded to 127.0.0.1:${upstream.address().port}`);
  const port = Number(line[1]);

  const mesh = await ask(port, 'reviews.default.svc.cluster.local');
  assert.equal((mesh.answers![0] as dnsPacket.StringAnswer).data, '10.96.9.9');
  const outside = await ask(port, 'api.example.org');
  assert.equal(rcode(outside), 0);
  assert.equal((outside.answers![0] as dnsPacket.StringAnswer).data, '192.0.2.44');
  assert.equal(outside.id, 3);
  const unknown = await ask(port, 'nosuch.example.org');
  assert.equal(rcode(unknown), 3, "the upstream's NXDOMAIN");
  const cluster = await ask(port, 'nosuch.default.svc.cluster.local');
  assert.equal(rcode(cluster), 3);
  assert.deepEqual(
    asked,
    ['api.example.org', 'nosuch.example.org'],
    'cluster.local names never leave the mesh',
  );
});

test('mizzen server --dns-upstream: a bad value or no --dns-address is a usage error', async () => {
  const bad = await runMizzen([
    'server',
    '--config',
    '.',
    '--dns-address',
    '127.0.0.1:0',
    '--dns-upstream',
    'dns.example:53',
  ]);
  assert.equal(bad.code, 2, bad.err);
  assert.match(bad.err, /--dns-upstream: "dns\.example:53" is not an IP address/);
  const alone = await runMizzen(['server', '--config', '.', '--dns-upstream', '10.0.0.2']);
  assert.equal(alone.code, 2, alone.err);
  assert.match(alone.err, /--dns-upstream needs --dns-address/);
});
