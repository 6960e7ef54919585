// HTTP/2 through the proxy: h2c prior knowledge downstream, HTTP/2 upstream clusters, and gRPC with
// @grpc/grpc-js on both sides (unary, server streaming, upstream status, proxy-generated UNAVAILABLE).
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { Proxy } from '../../proxy.js';
import {
  get,
  hcm,
  httpListener,
  routeConfig,
  startBackend,
  startProxy,
  staticCluster,
  type Backend,
} from '../../test-util.js';

const id = (b: Buffer): Buffer => b;
const SERVICE = {
  say: {
    path: '/test.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  },
  count: {
    path: '/test.Echo/Count',
    requestStream: false,
    responseStream: true,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  },
  fail: {
    path: '/test.Echo/Fail',
    requestStream: false,
    responseStream: false,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  },
} as const;

const H2_OPTIONS = {
  typedExtensionProtocolOptions: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicitHttpConfig: { http2ProtocolOptions: {} },
    },
  },
};

describe('HTTP/2 and gRPC', () => {
  let grpcServer: grpc.Server;
  let grpcPort: number;
  let h1: Backend;
  let proxy: Proxy;
  let port: number;
  let client: grpc.Client;

  before(async () => {
    grpcServer = new grpc.Server();
    grpcServer.addService(SERVICE, {
      say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const md = new grpc.Metadata();
        md.set('x-seen-authority', String(call.getPath()));
        cb(null, Buffer.concat([Buffer.from('echo:'), call.request]));
      },
      count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
        call.end();
      },
      fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      },
    });
    grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    h1 = await startBackend('h1');
    const routes = routeConfig('r', [
      { match: { prefix: '/test.Echo/Unavailable' }, route: { cluster: 'empty' } },
      { match: { prefix: '/test.Echo/' }, route: { cluster: 'grpc', timeout: {} } },
      { match: { prefix: '/' }, route: { cluster: 'h1' } },
    ]);
    proxy = await startProxy(
      [httpListener('l', hcm(routes))],
      [
        staticCluster('grpc', [grpcPort], H2_OPTIONS),
        staticCluster('h1', [h1.port]),
        staticCluster('empty', [], H2_OPTIONS),
      ],
    );
    port = proxy.listenerPort('l');
    const Client = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client.close();
    await proxy.close();
    await h1.close();
    grpcServer.forceShutdown();
  });

  const unary = (
    method: string,
    msg: string,
  ): Promise<{ err: grpc.ServiceError | null; res: Buffer | null }> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(
        `/test.Echo/${method}`,
        id,
        id,
        Buffer.from(msg),
        (err: grpc.ServiceError | null, res?: Buffer) => resolve({ err, res: res ?? null }),
      );
    });

  it('serves h2c prior-knowledge clients in front of an HTTP/1.1 backend', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ':path': '/h2c?x=1', ':authority': 'svc.local' });
        let status = 0;
        let body = '';
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (d: Buffer) => (body += d.toString()));
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
      });
      assert.equal(status, 200);
      assert.equal(JSON.parse(body).url, '/h2c?x=1');
      assert.equal(h1.seen.at(-1)!.headers.host, 'svc.local');
    } finally {
      session.close();
    }
  });

  it('proxies a gRPC unary call to an HTTP/2 upstream', async () => {
    const { err, res } = await unary('Say', 'hi');
    assert.equal(err, null);
    assert.equal(res!.toString(), 'echo:hi');
  });

  it('proxies server streaming with trailers', async () => {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.makeServerStreamRequest('/test.Echo/Count', id, id, Buffer.from('5'));
      call.on('data', (d: Buffer) => got.push(d.toString()));
      call.on('status', (s: grpc.StatusObject) =>
        s.code === grpc.status.OK ? resolve() : reject(new Error(s.details)),
      );
      call.on('error', () => {});
    });
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);
  });

  it('forwards an upstream gRPC error status and message', async () => {
    const { err } = await unary('Fail', '');
    assert.equal(err?.code, grpc.status.NOT_FOUND);
    assert.equal(err?.details, 'no such thing');
  });

  it('turns a proxy-generated error into grpc-status 14 UNAVAILABLE', async () => {
    const { err } = await unary('Unavailable', '');
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
    assert.equal(err?.details, 'no healthy upstream');
  });

  it('still serves HTTP/1.1 on the same listener', async () => {
    const r = await get(port, '/plain');
    assert.equal(r.status, 200);
  });
});
