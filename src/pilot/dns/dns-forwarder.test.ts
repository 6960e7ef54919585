// The mesh DNS forwarding names it does not own to upstream resolvers: real UDP sockets on loopback, a
// real upstream resolver (answers, stays silent, or is not there), and the mesh's own names untouched.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsForwarder, parseUpstreams, resolvConfUpstreams, servfail } from './dns-forwarder.js';
import { DnsServer } from './dns-server.js';
import type { NameTable } from './name-table.js';
import { waitFor } from '../../api/test-util.js';

const rcode = (p: dnsPacket.Packet): number => (p.flags ?? 0) & 0xf;

function query(name: string, id: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
  });
}

/** A real resolver on loopback: answers `name → ip` from its table, NXDOMAIN otherwise; or stays silent. */
async function upstream(
  host: string,
  table: Record<string, string>,
  silent = false,
): Promise<{ port: number; asked: string[]; ids: number[]; socket: Socket }> {
  const s = createSocket('udp4');
  const asked: string[] = [];
  const ids: number[] = [];
  s.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0].name;
    asked.push(name);
    ids.push(q.id!);
    if (silent) return;
    const ip = table[name];
    s.send(
      dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.RECURSION_AVAILABLE | (ip ? 0 : 3),
        questions: q.questions,
        answers: ip ? [{ type: 'A', name, ttl: 60, class: 'IN', data: ip }] : [],
      }),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return { port: s.address().port, asked, ids, socket: s };
}

/** Asks `server` on 127.0.0.1:port and resolves with the decoded reply. */
async function ask(port: number, name: string, id: number): Promise<dnsPacket.Packet> {
  const c = createSocket('udp4');
  try {
    return await new Promise<dnsPacket.Packet>((resolve) => {
      c.once('message', (m) => resolve(dnsPacket.decode(m)));
      c.send(query(name, id), port, '127.0.0.1');
    });
  } finally {
    c.close();
  }
}

const closers: (() => void)[] = [];
after(() => closers.forEach((c) => c()));

const MESH: NameTable = new Map([['reviews.default.svc.cluster.local', ['10.96.0.7']]]);

describe('DNS forwarding of names outside the mesh', () => {
  it('forwards them to the upstream, answers mesh names itself, NXDOMAIN for unknown cluster.local names', async () => {
    const up = await upstream('127.0.0.1', { 'example.org': '192.0.2.80' });
    closers.push(() => up.socket.close());
    const server = new DnsServer(() => MESH, new DnsForwarder([{ host: '127.0.0.1', port: up.port }]));
    closers.push(() => server.close());
    const port = await server.listen('127.0.0.1', 0);

    const ext = await ask(port, 'example.org', 4242);
    assert.equal(ext.id, 4242, "the client's id is restored");
    assert.equal(rcode(ext), 0);
    assert.equal((ext.answers![0] as dnsPacket.StringAnswer).data, '192.0.2.80');
    assert.notEqual(up.ids[0], 4242, 'the upstream sees a fresh id, not the client one');

    const nx = await ask(port, 'nosuch.example.org', 9);
    assert.equal(rcode(nx), 3, "the upstream's NXDOMAIN passes through");

    const mesh = await ask(port, 'reviews.default.svc.cluster.local', 10);
    assert.equal((mesh.answers![0] as dnsPacket.StringAnswer).data, '10.96.0.7');
    const search = await ask(port, 'example.org.default.svc.cluster.local', 11);
    assert.equal(rcode(search), 3, 'a search-path expansion under cluster.local is NXDOMAIN at once');
    assert.deepEqual(
      up.asked,
      ['example.org', 'nosuch.example.org'],
      'mesh and cluster names never go upstream',
    );
  });

  it('tries the next upstream when one is silent, and SERVFAILs when all are', async () => {
    const silent = await upstream('127.0.0.1', {}, true);
    const good = await upstream('127.0.0.1', { 'example.org': '192.0.2.81' });
    closers.push(
      () => silent.socket.close(),
      () => good.socket.close(),
    );
    const fwd = new DnsForwarder(
      [
        { host: '127.0.0.1', port: silent.port },
        { host: '127.0.0.1', port: good.port },
      ],
      { timeoutMs: 200 },
    );
    closers.push(() => fwd.close());
    const got = await new Promise<dnsPacket.Packet>((resolve) =>
      fwd.forward(query('example.org', 1), (b) => resolve(dnsPacket.decode(b))),
    );
    assert.equal((got.answers![0] as dnsPacket.StringAnswer).data, '192.0.2.81');
    assert.deepEqual([silent.asked, good.asked], [['example.org'], ['example.org']]);

    const lonely = new DnsForwarder([{ host: '127.0.0.1', port: silent.port }], { timeoutMs: 100 });
    closers.push(() => lonely.close());
    const fail = await new Promise<dnsPacket.Packet>((resolve) =>
      lonely.forward(query('example.org', 77), (b) => resolve(dnsPacket.decode(b))),
    );
    assert.equal(fail.id, 77);
    assert.equal(rcode(fail), 2, 'SERVFAIL');
    assert.equal(lonely.inFlight, 0);
  });

  it('keeps at most maxPending queries in flight; the rest get SERVFAIL at once', async () => {
    const silent = await upstream('127.0.0.1', {}, true);
    closers.push(() => silent.socket.close());
    const fwd = new DnsForwarder([{ host: '127.0.0.1', port: silent.port }], {
      timeoutMs: 60_000,
      maxPending: 8,
    });
    closers.push(() => fwd.close());
    const codes: number[] = [];
    for (let i = 0; i < 20; i++)
      fwd.forward(query(`n${i}.example.org`, i), (b) => codes.push(rcode(dnsPacket.decode(b))));
    assert.equal(fwd.inFlight, 8);
    assert.deepEqual(codes, new Array<number>(12).fill(2));
    await waitFor('the 8 in flight reached the upstream', () => silent.asked.length === 8);
  });

  it('drops an answer from anyone but the asked upstream', async () => {
    const silent = await upstream('127.0.0.1', {}, true);
    closers.push(() => silent.socket.close());
    const fwd = new DnsForwarder([{ host: '127.0.0.1', port: silent.port }], { timeoutMs: 60_000 });
    closers.push(() => fwd.close());
    let got: Buffer | null = null;
    fwd.forward(query('example.org', 5), (b) => (got = b));
    await waitFor('asked', () => silent.ids.length === 1);
    // A spoofer that guessed the id, from another port.
    const spoofer = createSocket('udp4');
    closers.push(() => spoofer.close());
    await new Promise<void>((resolve) => spoofer.bind(0, '127.0.0.1', resolve));
    const forged = dnsPacket.encode({
      type: 'response',
      id: silent.ids[0],
      questions: [{ type: 'A', name: 'example.org' }],
      answers: [{ type: 'A', name: 'example.org', ttl: 60, class: 'IN', data: '6.6.6.6' }],
    });
    // Where the forwarder's socket is: the upstream saw it as the sender.
    const from = await new Promise<number>((resolve) => {
      silent.socket.once('message', (_m, r) => resolve(r.port));
      fwd.forward(query('probe.example.org', 6), () => {});
    });
    await new Promise<void>((resolve, reject) =>
      spoofer.send(forged, from, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
    // The real upstream's answer for the same id still gets through afterwards.
    const real = dnsPacket.encode({
      type: 'response',
      id: silent.ids[0],
      questions: [{ type: 'A', name: 'example.org' }],
      answers: [{ type: 'A', name: 'example.org', ttl: 60, class: 'IN', data: '192.0.2.82' }],
    });
    silent.socket.send(real, from, '127.0.0.1');
    await waitFor('the real answer arrives', () => got !== null);
    assert.equal((dnsPacket.decode(got!).answers![0] as dnsPacket.StringAnswer).data, '192.0.2.82');
    assert.equal(dnsPacket.decode(got!).id, 5);
  });

  it('garbage from a client or an upstream neither throws nor answers', async () => {
    const fwd = new DnsForwarder([{ host: '127.0.0.1', port: 9 }], { timeoutMs: 50 });
    closers.push(() => fwd.close());
    let replies = 0;
    fwd.forward(Buffer.from('short'), () => replies++);
    assert.equal(fwd.inFlight, 0);
    assert.equal(servfail(Buffer.from('not a dns packet at all')), null);
    assert.equal(replies, 0);
    // 12 bytes that are a header and nothing else: forwarded to a port nobody answers, then SERVFAIL.
    let failed: dnsPacket.Packet | null = null;
    fwd.forward(Buffer.alloc(12), (b) => (failed = dnsPacket.decode(b)));
    await waitFor('timed out', () => failed);
    assert.equal(rcode(failed!), 2);
    assert.equal(fwd.inFlight, 0);
  });

  it('reads upstreams from resolv.conf and --dns-upstream', () => {
    assert.deepEqual(
      resolvConfUpstreams(
        'search x\nnameserver 10.0.0.2\n# nameserver 1.1.1.1\nnameserver fe80::1%eth0\nnameserver 10.0.0.2\nnameserver 198.18.0.1\n',
        ['198.18.0.1'],
      ),
      [
        { host: '10.0.0.2', port: 53 },
        { host: 'fe80::1', port: 53 },
      ],
    );
    assert.deepEqual(parseUpstreams('10.0.0.2, 127.0.0.1:5353,[::1]:53,::1'), [
      { host: '10.0.0.2', port: 53 },
      { host: '127.0.0.1', port: 5353 },
      { host: '::1', port: 53 },
      { host: '::1', port: 53 },
    ]);
    assert.match(String(parseUpstreams('dns.example:53')), /not an IP address/);
    assert.match(String(parseUpstreams('10.0.0.2:99999')), /bad port/);
  });
});
