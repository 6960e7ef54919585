import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { answer, DnsServer } from './dns-server.js';
import { buildNameTable, type NameTable } from './name-table.js';
import type { MeshService } from '../../registry/model.js';

function svc(hostname: string, source: MeshService['source'], addresses: string[] = []): MeshService {
  return {
    hostname,
    namespace: 'default',
    name: hostname.split('.')[0],
    source,
    ports: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    addresses,
    exportTo: new Set(['*']),
    labels: {},
  };
}

const registry = {
  services: [
    svc('reviews.default.svc.cluster.local', 'Service'),
    svc('ratings.default.svc.cluster.local', 'Service', ['10.96.7.7']),
    svc('api.example.com', 'ServiceEntry'),
    svc('*.wild.example.com', 'ServiceEntry'),
  ],
  endpoints: () => [],
};

/** The response code (0 NOERROR, 3 NXDOMAIN): the low 4 bits of the header flags. */
const rcode = (p: dnsPacket.Packet): number => (p.flags ?? 0) & 0xf;

function query(name: string, type: 'A' | 'AAAA' = 'A'): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
}

describe('DNS proxying', () => {
  it('allocates stable service IPs from the service CIDR and 240.240/16 for ServiceEntries', () => {
    const t = buildNameTable(registry);
    assert.match(t.get('reviews.default.svc.cluster.local')![0], /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(t.get('reviews.default'), t.get('reviews.default.svc.cluster.local'));
    assert.deepEqual(t.get('reviews.default.svc'), t.get('reviews.default.svc.cluster.local'));
    assert.deepEqual(t.get('ratings.default.svc.cluster.local'), ['10.96.7.7']);
    assert.match(t.get('api.example.com')![0], /^240\.240\.\d+\.\d+$/);
    assert.equal(t.get('*.wild.example.com'), undefined);
    assert.deepEqual(buildNameTable(registry), t, 'the same registry allocates the same IPs');
  });

  it('answers A for known names, NODATA for AAAA, NXDOMAIN for the rest', () => {
    const t: NameTable = buildNameTable(registry);
    const a = dnsPacket.decode(answer(query('Reviews.default.svc.cluster.local'), t)!);
    assert.equal(a.id, 7);
    assert.equal(rcode(a), 0);
    assert.deepEqual(
      a.answers!.map((x) => (x as dnsPacket.StringAnswer).data),
      t.get('reviews.default.svc.cluster.local'),
    );
    const aaaa = dnsPacket.decode(answer(query('reviews.default.svc.cluster.local', 'AAAA'), t)!);
    assert.equal(rcode(aaaa), 0);
    assert.deepEqual(aaaa.answers, []);
    const nx = dnsPacket.decode(answer(query('nosuch.default.svc.cluster.local'), t)!);
    assert.equal(rcode(nx), 3, 'NXDOMAIN');
    assert.equal(answer(Buffer.from('not dns'), t), null);
  });

  it('serves over UDP', async () => {
    const server = new DnsServer(() => buildNameTable(registry));
    const port = await server.listen('127.0.0.1', 0);
    const client = createSocket('udp4');
    try {
      const reply = await new Promise<Buffer>((resolve) => {
        client.once('message', resolve);
        client.send(query('api.example.com'), port, '127.0.0.1');
      });
      const r = dnsPacket.decode(reply);
      assert.match((r.answers![0] as dnsPacket.StringAnswer).data, /^240\.240\./);
    } finally {
      client.close();
      server.close();
    }
  });
});
