// The exchange inside one real proxy against hand-written Istio peers speaking the wire format byte
// for byte: the cluster (upstream) side strips the server's header and reports its workload; the
// listener (downstream) side closes a peer that negotiated the exchange and then stays silent, at the
// tcp_proxy idle timeout.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import type { Proxy } from '../../proxy.js';
import { admin, startProxy, staticCluster, waitFor } from '../../test-util.js';
import { TestPki } from '../../tls/test-pki.js';
import { encodeMessage } from '../../../xds/protos.js';
import { structFromJson } from '../../../xds/struct.js';
import { decodeExchangeData } from './exchange-header.js';

const pki = new TestPki();
const leaf = pki.issue('server', 'localhost', ['localhost', 'IP:127.0.0.1']);

const TYPED_STRUCT = 'type.googleapis.com/udpa.type.v1.TypedStruct';
const MX = {
  name: 'istio.metadata_exchange',
  typedConfig: {
    '@type': TYPED_STRUCT,
    typeUrl: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange',
    value: structFromJson({ protocol: 'istio-peer-exchange' }),
  },
};

/** What an Istio proxy sends: the 8-byte header, then Any(Struct) built here independently of the codec. */
function istioPeerBytes(metadata: Record<string, unknown>, id: string): Buffer {
  const struct = encodeMessage(
    'google.protobuf.Struct',
    structFromJson({ 'x-envoy-peer-metadata': metadata, 'x-envoy-peer-metadata-id': id }),
  );
  const any = protobuf.Writer.create();
  any.uint32(10).string('type.googleapis.com/google.protobuf.Struct');
  any.uint32(18).bytes(struct);
  const body = Buffer.from(any.finish());
  const head = Buffer.alloc(8);
  head.writeUInt32BE(0x3d230467, 0);
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

function tcpProxy(statPrefix: string, cluster: string, extra: Record<string, unknown> = {}): any {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      statPrefix,
      cluster,
      ...extra,
    },
  };
}

function listener(name: string, filters: any[], transportSocket?: any): any {
  return {
    name,
    address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
    filterChains: [{ filters, ...(transportSocket ? { transportSocket } : {}) }],
  };
}

describe('istio.metadata_exchange in tcp_proxy against Istio-format peers', () => {
  let ratings: Server;
  /** What the upstream peer received on each connection (the proxy's header, then the app's bytes). */
  const upstreamGot: Buffer[] = [];
  let echo: Server;
  let proxy: Proxy;

  before(async () => {
    // An Istio sidecar in front of ratings-v1: sends its exchange first, then echoes whatever follows
    // the client's exchange.
    const ctx = createSecureContext({ key: leaf.key, cert: leaf.cert });
    ratings = createServer((raw: Socket) => {
      const t = new TLSSocket(raw, {
        isServer: true,
        secureContext: ctx,
        ALPNProtocols: ['istio-peer-exchange'],
      });
      t.on('error', () => t.destroy());
      t.on('secure', () => {
        const i = upstreamGot.push(Buffer.alloc(0)) - 1;
        t.write(
          istioPeerBytes(
            { WORKLOAD_NAME: 'ratings-v1', NAMESPACE: 'default', LABELS: { app: 'ratings', version: 'v1' } },
            'sidecar~10.0.0.2~ratings-v1-0.default~default.svc.cluster.local',
          ),
        );
        t.on('data', (d: Buffer) => {
          const before = upstreamGot[i].length;
          upstreamGot[i] = Buffer.concat([upstreamGot[i], d]);
          const all = upstreamGot[i];
          if (all.length < 8) return;
          const start = Math.max(8 + all.readUInt32BE(4), before);
          if (all.length > start) t.write(all.subarray(start));
        });
        t.on('end', () => t.end());
      });
    });
    await new Promise<void>((r) => ratings.listen(0, '127.0.0.1', r));
    echo = createServer((s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const stats = {
      name: 'istio.stats',
      typedConfig: {
        '@type': TYPED_STRUCT,
        typeUrl: 'type.googleapis.com/stats.PluginConfig',
        value: structFromJson({ direction: 'OUTBOUND' }),
      },
    };
    proxy = await startProxy(
      [
        listener('out', [stats, tcpProxy('out', 'outbound|9080||ratings.default.svc.cluster.local')]),
        listener('in', [MX, tcpProxy('in', 'echo', { idleTimeout: '0.5s' })], {
          name: 'envoy.transport_sockets.tls',
          typedConfig: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
            commonTlsContext: {
              tlsCertificates: [
                { certificateChain: { inlineString: leaf.cert }, privateKey: { inlineString: leaf.key } },
              ],
              alpnProtocols: ['istio-peer-exchange', 'h2', 'http/1.1'],
            },
          },
        }),
      ],
      [
        staticCluster(
          'outbound|9080||ratings.default.svc.cluster.local',
          [(ratings.address() as AddressInfo).port],
          {
            filters: [MX],
            transportSocket: {
              name: 'envoy.transport_sockets.tls',
              typedConfig: {
                '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
                commonTlsContext: { alpnProtocols: ['istio-peer-exchange', 'istio'] },
              },
            },
          },
        ),
        staticCluster('echo', [(echo.address() as AddressInfo).port]),
      ],
      {
        nodeId: 'sidecar~10.0.0.1~productpage-v1-0.default~default.svc.cluster.local',
        metadata: { WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'default', LABELS: { app: 'productpage' } },
      },
    );
  });

  after(async () => {
    await proxy.close();
    ratings.close();
    echo.close();
    pki.cleanup();
  });

  it("upstream: the server's exchange is stripped, ours is sent first, and the source series names ratings-v1", async () => {
    const got = await new Promise<Buffer>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port: proxy.listenerPort('out') });
      const parts: Buffer[] = [];
      c.on('data', (d: Buffer) => {
        parts.push(d);
        if (Buffer.concat(parts).length >= 5) c.end();
      });
      c.on('close', () => resolve(Buffer.concat(parts)));
      c.on('error', reject);
      c.write('hello');
    });
    assert.equal(got.toString(), 'hello', "the client sees the app's bytes only");
    const up = upstreamGot[upstreamGot.length - 1];
    assert.equal(up.readUInt32BE(0), 0x3d230467);
    const size = up.readUInt32BE(4);
    assert.equal(up.subarray(8 + size).toString(), 'hello');
    const mine = decodeExchangeData(up.subarray(8, 8 + size));
    assert.equal(mine?.metadata.WORKLOAD_NAME, 'productpage-v1');
    assert.equal(mine?.id, 'sidecar~10.0.0.1~productpage-v1-0.default~default.svc.cluster.local');
    await waitFor(
      'the source series names the destination workload',
      async () =>
        /istio_tcp_connections_closed_total\{reporter="source",source_workload="productpage-v1".*destination_workload="ratings-v1",destination_workload_namespace="default".*destination_app="ratings",destination_version="v1"/.test(
          (await admin(proxy, '/stats/prometheus')).body,
        ),
      10_000,
    );
  });

  it('downstream: a peer that negotiated the exchange and sends nothing is closed at the idle timeout', async () => {
    const t0 = Date.now();
    const got = await new Promise<Buffer>((resolve) => {
      const c = tlsConnect({
        host: '127.0.0.1',
        port: proxy.listenerPort('in'),
        ALPNProtocols: ['istio-peer-exchange'],
        rejectUnauthorized: false,
      });
      const parts: Buffer[] = [];
      c.on('data', (d: Buffer) => parts.push(d));
      c.on('close', () => resolve(Buffer.concat(parts)));
      c.on('error', () => undefined);
      // Without the proxy's idle timer this would wait forever: give up (and fail below) after 5 s.
      c.setTimeout(5000, () => c.destroy());
    });
    const ms = Date.now() - t0;
    assert.ok(ms >= 400 && ms < 5000, `closed after ${ms} ms (idle timeout 0.5 s)`);
    assert.equal(decodeExchangeData(got.subarray(8))?.metadata.WORKLOAD_NAME, 'productpage-v1');
    assert.match(
      (await admin(proxy, '/stats?filter=tcp.in.idle_timeout')).body,
      /^tcp\.in\.idle_timeout: 1$/m,
    );
  });
});
