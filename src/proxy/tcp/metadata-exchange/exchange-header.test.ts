// The exchange's wire format on exact bytes: Istio's initial header, the Any(Struct) payload, and the
// incremental reader on split, wrong, oversized and truncated input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import {
  decodeExchangeData,
  encodeExchange,
  EXCHANGE_MAGIC,
  ExchangeReader,
  MAX_EXCHANGE_DATA,
  ReadState,
} from './exchange-header.js';

const NODE = {
  id: 'sidecar~10.0.0.1~sleep-0.foo~foo.svc.cluster.local',
  metadata: {
    NAME: 'sleep-0',
    NAMESPACE: 'foo',
    WORKLOAD_NAME: 'sleep',
    CLUSTER_ID: 'Kubernetes',
    LABELS: { app: 'sleep', version: 'v1' },
    SERVICE_ACCOUNT: 'sleep',
    INTERCEPTION_MODE: 'NONE',
  },
};

test("the header is Istio's: magic 0x3D230467 and the data size, big-endian, then an Any of a Struct", () => {
  const b = encodeExchange(NODE);
  assert.deepEqual([...b.subarray(0, 4)], [0x3d, 0x23, 0x04, 0x67]);
  assert.equal(b.readUInt32BE(4), b.length - 8);
  // Any field 1: the Struct type URL.
  const r = protobuf.Reader.create(b.subarray(8));
  assert.equal(r.uint32(), 10);
  assert.equal(r.string(), 'type.googleapis.com/google.protobuf.Struct');
  assert.equal(r.uint32(), 18);
  const peer = decodeExchangeData(b.subarray(8));
  assert.ok(peer);
  assert.equal(peer.id, NODE.id);
  // Istio's exchanged keys only: SERVICE_ACCOUNT and INTERCEPTION_MODE are not among them.
  assert.deepEqual(peer.metadata, {
    NAME: 'sleep-0',
    NAMESPACE: 'foo',
    WORKLOAD_NAME: 'sleep',
    CLUSTER_ID: 'Kubernetes',
    LABELS: { app: 'sleep', version: 'v1' },
  });
});

test('the reader takes the exchange one byte at a time and hands back what follows it', () => {
  const b = Buffer.concat([encodeExchange(NODE), Buffer.from('app bytes')]);
  const reader = new ExchangeReader();
  let state = ReadState.NeedMore;
  for (let i = 0; i < b.length && state === ReadState.NeedMore; i++)
    state = reader.push(b.subarray(i, i + 1));
  assert.equal(state, ReadState.Done);
  assert.equal(decodeExchangeData(reader.data!)?.metadata.WORKLOAD_NAME, 'sleep');
  // The byte that completed the exchange was its last: nothing of the app's was taken.
  assert.equal(reader.rest!.length, 0);
  const whole = new ExchangeReader();
  assert.equal(whole.push(b), ReadState.Done);
  assert.equal(whole.rest!.toString(), 'app bytes');
});

test('a wrong magic is no exchange: every byte read goes on unchanged', () => {
  const reader = new ExchangeReader();
  assert.equal(reader.push(Buffer.from('GET / H')), ReadState.NeedMore);
  assert.equal(reader.push(Buffer.from('TTP/1.1\r\n')), ReadState.NotFound);
  assert.equal(reader.rest!.toString(), 'GET / HTTP/1.1\r\n');
});

test('a data size over the bound is refused at once, without waiting for the data', () => {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(EXCHANGE_MAGIC, 0);
  h.writeUInt32BE(MAX_EXCHANGE_DATA + 1, 4);
  assert.equal(new ExchangeReader().push(h), ReadState.TooLarge);
  h.writeUInt32BE(MAX_EXCHANGE_DATA, 4);
  assert.equal(new ExchangeReader().push(h), ReadState.NeedMore);
});

test('an early end: a partial non-header goes on, a partial exchange is dropped', () => {
  const short = new ExchangeReader();
  short.push(Buffer.from('hi'));
  assert.equal(short.end(), ReadState.NotFound);
  assert.equal(short.rest!.toString(), 'hi');
  const cut = new ExchangeReader();
  cut.push(encodeExchange(NODE).subarray(0, 20));
  assert.equal(cut.end(), ReadState.NotFound);
  assert.equal(cut.rest!.length, 0, 'no exchange bytes reach the app');
});

test('data that is not an Any of a Struct decodes to nothing', () => {
  assert.equal(decodeExchangeData(Buffer.from([0xff, 0xff, 0xff])), null);
  const w = protobuf.Writer.create();
  w.uint32(10).string('type.googleapis.com/google.protobuf.Duration');
  w.uint32(18).bytes(Buffer.from([8, 1]));
  assert.equal(decodeExchangeData(w.finish()), null);
});
