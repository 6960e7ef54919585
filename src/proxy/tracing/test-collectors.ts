// Test collectors on loopback: Zipkin v2 JSON over HTTP, and OTLP over HTTP and gRPC, decoding OTLP
// with their own protobuf schema (protobufjs reflection), independent of the encoder the proxy uses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/** A received span, in Zipkin's v2 JSON shape (OTLP spans are converted to it). */
export interface ReceivedSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind: string;
  name: string;
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string; ipv4?: string };
  tags: Record<string, string>;
  /** Zipkin v2: a SERVER span sharing its caller's id. */
  shared?: boolean;
}

const OTLP = protobuf.Root.fromJSON({
  nested: {
    ExportTraceServiceRequest: {
      fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } },
    },
    ResourceSpans: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
      },
    },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
        endTimeUnixNano: { type: 'fixed64', id: 8 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
      },
    },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    AnyValue: {
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
      },
    },
  },
});
const REQUEST = OTLP.lookupType('ExportTraceServiceRequest');

interface KV {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: unknown; doubleValue?: number };
}

function attrs(list: KV[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) {
    const v = a.value ?? {};
    out[a.key] = String(v.stringValue ?? v.boolValue ?? v.intValue ?? v.doubleValue ?? '');
  }
  return out;
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

/** Decodes an OTLP ExportTraceServiceRequest into spans. */
export function decodeOtlp(body: Uint8Array): ReceivedSpan[] {
  const req = REQUEST.toObject(REQUEST.decode(body), { longs: String }) as any;
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const service = attrs(rs.resource?.attributes)['service.name'] ?? '';
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano ?? '0');
        const end = BigInt(s.endTimeUnixNano ?? '0');
        const parent = hex(s.parentSpanId);
        out.push({
          traceId: hex(s.traceId),
          id: hex(s.spanId),
          ...(parent ? { parentId: parent } : {}),
          kind: s.kind === 2 ? 'SERVER' : s.kind === 3 ? 'CLIENT' : String(s.kind),
          name: s.name ?? '',
          timestamp: Number(start / 1000n),
          duration: Number((end - start) / 1000n),
          localEndpoint: { serviceName: service },
          tags: attrs(s.attributes),
        });
      }
  }
  return out;
}

/** Spans collected by one receiver, with a lookup by x-request-id. */
export class SpanStore {
  readonly spans: ReceivedSpan[] = [];
  reports = 0;
  /** Spans of the request whose x-request-id was `rid` (proxies rewrite its trace-status digit). */
  ofRequest(rid: string): ReceivedSpan[] {
    const key = rid.slice(0, 14) + rid.slice(15);
    return this.spans.filter((s) => {
      const g = s.tags['guid:x-request-id'] ?? '';
      return g.slice(0, 14) + g.slice(15) === key;
    });
  }
}

/** An HTTP collector: Zipkin (`POST /api/v2/spans`, JSON) and OTLP/HTTP (`POST /v1/traces`, protobuf). */
export class HttpCollector extends SpanStore {
  readonly server: http.Server;
  /** Spans received on the OTLP path (`/v1/traces`), kept apart from Zipkin's. */
  readonly otlp = new SpanStore();
  constructor() {
    super();
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const ct = req.headers['content-type'];
        if (req.method === 'POST' && req.url === '/api/v2/spans' && ct === 'application/json') {
          this.spans.push(...(JSON.parse(body.toString('utf8')) as ReceivedSpan[]));
        } else if (req.method === 'POST' && req.url === '/v1/traces' && ct === 'application/x-protobuf') {
          this.otlp.reports++;
          this.otlp.spans.push(...decodeOtlp(body));
        } else {
          res.writeHead(404).end();
          return;
        }
        this.reports++;
        res.writeHead(ct === 'application/json' ? 202 : 200, { 'content-type': String(ct) }).end();
      });
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }
  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

/** An OTLP/gRPC collector (TraceService/Export). */
export class GrpcCollector extends SpanStore {
  readonly server = new Server();
  constructor() {
    super();
    this.server.addService(TRACE_SERVICE, {
      Export: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => {
        this.reports++;
        this.spans.push(...decodeOtlp(call.request));
        cb(null, Buffer.alloc(0));
      },
    });
  }
  listen(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, port) =>
        e ? reject(e) : resolve(port),
      ),
    );
  }
  close(): void {
    this.server.forceShutdown();
  }
}
