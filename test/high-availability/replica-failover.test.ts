// Evidence for the replicated control plane: three `mizzen server --etcd` replicas, two sidecars listing
// all three. One replica is killed under a request loop through a sidecar: no request fails, the
// sidecars reconnect to the others, a change made during the outage reaches both; then etcd restarts
// and nothing is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, Agent, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, freePort } from '../../src/config/etcd/test-util.js';
import { startServerWith, waitFor, type ServerProcess } from '../../src/cli/server-test-util.js';
import { applyRemote, listRemote } from '../../src/cli/remote-config.js';
import { spawnProxy, type ProxyChild } from '../../src/proxy/test-util.js';

/** A /24 of loopback addresses of our own: .1 is the backend, .2 and .3 the sidecars. */
const NET = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}`;
const BACKEND_IP = `${NET}.1`;
/** Target request rate of the failover loop; the benchmark (docs/performance.md) runs it with MIZZEN_HA_RATE=1000. */
const RATE = Number(process.env.MIZZEN_HA_RATE ?? 300);

function mesh(port: number, version: string): string {
  return `
apiVersion: v1
kind: Service
metadata: { name: echo }
spec: { selector: { app: echo }, ports: [{ name: http, port: ${port} }] }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: echo-1 }
spec: { address: ${BACKEND_IP}, labels: { app: echo } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
    - headers: { response: { set: { x-config: ${version} } } }
      route: [{ destination: { host: echo } }]
`;
}

/** One answer: status (-1 when the request itself failed), the x-config header, and for a failure what said why. */
interface Answer {
  status: number;
  config: string;
  /** Non-200 only: the body's first 200 bytes or the client error, so a failure says where it came from. */
  why?: string;
}

/** One request through a sidecar's HTTP proxy listener (absolute form, like an app with HTTP_PROXY). */
function send(agent: Agent, sidecarIp: string, port: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: sidecarIp,
        port: 15001,
        path: `http://echo:${port}/`,
        headers: { host: `echo:${port}` },
        timeout: 10_000,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const config = String(res.headers['x-config'] ?? '');
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => {
          if (status !== 200 && body.length < 200) body += c;
        });
        res.on('end', () =>
          resolve(status === 200 ? { status, config } : { status, config, why: body.slice(0, 200) }),
        );
        res.on('error', (e) => resolve({ status: -1, config: '', why: `response: ${e.message}` }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: -1, config: '', why: `request: ${e.message}` }));
    req.end();
  });
}

/**
 * Sends requests at about `rate` per second (at most 32 in flight) until `until()` holds; resolves with
 * how many were sent and, for each that failed, when (ms after the loop began), its status and why.
 */
async function loop(
  agent: Agent,
  sidecarIp: string,
  port: number,
  rate: number,
  until: () => boolean,
): Promise<{ sent: number; failed: string[] }> {
  let sent = 0;
  let inFlight = 0;
  const failed: string[] = [];
  const pending = new Set<Promise<void>>();
  const start = Date.now();
  while (!until()) {
    const due = Math.floor(((Date.now() - start) * rate) / 1000);
    while (sent < due && inFlight < 32) {
      sent++;
      inFlight++;
      const sentAt = Date.now();
      const p = send(agent, sidecarIp, port).then((r) => {
        inFlight--;
        if (r.status !== 200)
          failed.push(
            `${r.status} sent at +${sentAt - start} ms, answered at +${Date.now() - start} ms: ${r.why ?? ''}`,
          );
      });
      pending.add(p);
      void p.then(() => pending.delete(p));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  return { sent, failed };
}

async function connectedTo(server: ServerProcess, nodeId: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${server.debug}/debug/syncz`);
    const body = (await res.json()) as { id: string }[] | { proxies?: { id: string }[] };
    const list = Array.isArray(body) ? body : (body.proxies ?? []);
    return list.some((p) => p.id === nodeId);
  } catch {
    return false;
  }
}

test('kill one of three replicas under load: zero failed requests, sidecars fail over, changes still arrive; etcd restarts without loss', async () => {
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-ha-'));
  const servers: ServerProcess[] = [];
  const proxies: ProxyChild[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let backend: Server | undefined;
  try {
    const port = await freePort(BACKEND_IP);
    backend = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => backend!.listen(port, BACKEND_IP, r));
    const args = ['--etcd', etcd.url, '--etcd-prefix', '/ha/'];
    for (const name of ['one', 'two', 'three'])
      servers.push(await startServerWith([...args, '--name', name]));
    const [one, two, three] = servers;
    const applied = await applyRemote(
      one.debug,
      [{ file: 'mesh.yaml', text: mesh(port, 'before') }],
      'default',
    );
    assert.ok(applied.ok, applied.error);

    // Both sidecars list replica one first; their fallbacks differ.
    const sidecars = [
      { ip: `${NET}.2`, order: [one, two, three] },
      { ip: `${NET}.3`, order: [one, three, two] },
    ].map((s) => ({ ...s, id: `sidecar~${s.ip}~client-${s.ip}.default~default.svc.cluster.local` }));
    for (const s of sidecars) {
      proxies.push(
        await spawnProxy(
          [
            'sidecar',
            '--xds-address',
            s.order.map((x) => x.xds).join(','),
            '--id',
            s.id,
            '--metadata',
            JSON.stringify({ NAMESPACE: 'default', INTERCEPTION_MODE: 'NONE', INSTANCE_IPS: s.ip }),
            '--admin-port',
            '0',
          ],
          join(dir, `ready-${s.ip}`),
        ),
      );
      await waitFor('the sidecar on replica one', () => connectedTo(one, s.id), 20_000);
    }
    for (const s of sidecars)
      await waitFor(
        `traffic through ${s.ip}`,
        async () => (await send(agent, s.ip, port)).config === 'before',
        30_000,
      );

    // A bounded loop through the first sidecar; replica one is killed a second in.
    let killedAt = 0;
    let reconnectedAt = 0;
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      killedAt = Date.now();
      one.child.kill('SIGKILL');
      await waitFor(
        'both sidecars on another replica',
        async () => (await connectedTo(two, sidecars[0].id)) && (await connectedTo(three, sidecars[1].id)),
        30_000,
      );
      reconnectedAt = Date.now();
    })();
    const started = Date.now();
    const run = await loop(
      agent,
      sidecars[0].ip,
      port,
      RATE,
      () => reconnectedAt > 0 && Date.now() - reconnectedAt > 1000,
    );
    await killer;
    console.log(
      `# ${run.sent} requests in ${Date.now() - started} ms (target ${RATE}/s) during the failover, ${run.failed.length} failed; replica one killed at +${killedAt - started} ms, sidecars reconnected ${reconnectedAt - killedAt} ms after the kill`,
    );
    assert.deepEqual(run.failed, [], 'no request fails while a replica dies');
    assert.ok(run.sent >= 100, `the loop sent ${run.sent} requests`);

    // A change made while replica one is down reaches both sidecars.
    const during = await applyRemote(
      two.debug,
      [{ file: 'mesh.yaml', text: mesh(port, 'during') }],
      'default',
    );
    assert.ok(during.ok, during.error);
    for (const s of sidecars)
      await waitFor(
        `the outage change at ${s.ip}`,
        async () => (await send(agent, s.ip, port)).config === 'during',
        30_000,
      );

    // etcd restarts: the sidecars keep serving meanwhile, the replicas resume, nothing is lost.
    await etcd.kill();
    const whileDown = await loop(
      agent,
      sidecars[1].ip,
      port,
      100,
      (() => {
        const end = Date.now() + 1500;
        return () => Date.now() > end;
      })(),
    );
    assert.deepEqual(whileDown.failed, [], 'the data plane does not need etcd');
    await etcd.restart();
    await waitFor(
      'a write after the etcd restart',
      async () =>
        (
          await applyRemote(three.debug, [{ file: 'mesh.yaml', text: mesh(port, 'after') }], 'default').catch(
            () => ({ ok: false }),
          )
        ).ok,
      30_000,
    );
    for (const s of sidecars)
      await waitFor(
        `the post-restart change at ${s.ip}`,
        async () => (await send(agent, s.ip, port)).config === 'after',
        30_000,
      );
    const kept = await listRemote(two.debug, ['Service', 'WorkloadEntry', 'VirtualService'], 'default');
    assert.deepEqual(kept.map((r) => `${r.kind}/${r.metadata.name}`).sort(), [
      'Service/echo',
      'VirtualService/echo',
      'WorkloadEntry/echo-1',
    ]);
  } finally {
    agent.destroy();
    for (const p of proxies) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    for (const s of servers) await s.stop();
    await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
    await etcd.stop();
  }
});
