// Test helpers for authz: generate a workload's inbound chains from YAML with pilot, serve them with a
// real in-process proxy (optionally behind mutual TLS), and send requests as a given peer.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { TypeUrl } from '../../xds/type-urls.js';
import type { CanonicalObject } from '../../xds/protos.js';
import { generatorFor, proxyRef, pushFromYaml, roundTrip } from '../test-util.js';
import { startProxy, staticCluster, type Backend } from '../../proxy/test-util.js';
import type { Proxy } from '../../proxy/proxy.js';
import type { CertFiles, TestPki } from '../../proxy/tls/test-pki.js';

/** A workload `httpbin` (app=httpbin, sa httpbin) in `ns` serving HTTP on 8000 and TCP on 9000. */
export function workloadYaml(ns = 'foo'): string {
  return `apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: ${ns} }
spec:
  selector: { app: httpbin }
  ports: [{ name: http, port: 8000, targetPort: 8000 }, { name: tcp, port: 9000, targetPort: 9000 }]
---
apiVersion: v1
kind: Pod
metadata: { name: httpbin-0, namespace: ${ns}, labels: { app: httpbin } }
spec: { serviceAccountName: httpbin, containers: [{ name: httpbin, ports: [{ containerPort: 8000 }, { containerPort: 9000 }] }] }
status: { podIP: 127.1.0.9, conditions: [{ type: Ready, status: "True" }] }
`;
}

/** The inbound listeners pilot generates for the httpbin sidecar (local mode), round-tripped through the protos. */
export function inboundListeners(yaml: string[], ns = 'foo', labels = { app: 'httpbin' }): CanonicalObject[] {
  const g = generatorFor(pushFromYaml(workloadYaml(ns), ...yaml));
  const proxy = proxyRef({
    ip: '127.1.0.9',
    name: 'httpbin-0',
    namespace: ns,
    labels,
    metadata: { INTERCEPTION_MODE: 'NONE' },
  });
  const ls = g
    .generate(proxy, TypeUrl.LISTENER, [])
    .filter((l) => l.trafficDirection === 'INBOUND')
    .map((l) => roundTrip(TypeUrl.LISTENER, l));
  assert.ok(ls.length > 0, 'no inbound listener generated');
  return ls;
}

/** The plaintext filter chain of the inbound listener on `port` (PERMISSIVE also has an Istio mTLS chain). */
export function inboundChain(listeners: CanonicalObject[], port: number): any {
  const l = listeners.find((x: any) => x.address.socketAddress.portValue === port) as any;
  assert.ok(l, `no inbound listener on ${port}`);
  return l.filterChains.find((c: any) => !c.transportSocket) ?? l.filterChains[0];
}

/** A DownstreamTlsContext asking for (not requiring) a client certificate signed by `pki`'s CA. */
export function mtlsSocket(pki: TestPki, server: CertFiles): any {
  return {
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      commonTlsContext: {
        tlsCertificates: [
          { certificateChain: { inlineString: server.cert }, privateKey: { inlineString: server.key } },
        ],
        validationContext: { trustedCa: { inlineString: pki.ca.cert } },
      },
      requireClientCertificate: { value: true },
    },
  };
}

/** A loopback address of its own for this test process, so the real ports 8000/9000 are free there. */
export const TEST_IP = `127.${100 + (process.pid % 100)}.${Math.floor(Math.random() * 250) + 1}.15`;

/**
 * Serves the generated chains of ports 8000 (HTTP) and 9000 (TCP) on TEST_IP (same ports, so
 * `ports` / `destination.port` rules see them), forwarding to `backend` / `tcpPort`.
 */
export async function serveInbound(
  listeners: CanonicalObject[],
  backend: Backend,
  tcpPort: number,
  tls: any = null,
  /** More clusters (e.g. the outbound cluster of an external authorizer). */
  clusters: any[] = [],
): Promise<Proxy> {
  const mk = (name: string, port: number): any => {
    const chain = { ...inboundChain(listeners, port) };
    if (tls) chain.transportSocket = tls;
    return { name, address: { socketAddress: { address: TEST_IP, portValue: port } }, filterChains: [chain] };
  };
  return startProxy(
    [mk('http', 8000), mk('tcp', 9000)],
    [
      staticCluster('inbound|8000||', [backend.port]),
      staticCluster('inbound|9000||', [tcpPort]),
      ...clusters,
    ],
  );
}

/** A reply. */
export interface Res {
  status: number;
  body: string;
}

/** Sends one HTTP/1.1 request (over TLS with `cert` when given). */
export function send(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; cert?: CertFiles; ca?: string } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const o: any = {
      host: TEST_IP,
      port,
      path,
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: false,
    };
    const cb = (res: any): void => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = opts.cert
      ? httpsRequest(
          { ...o, cert: opts.cert.cert, key: opts.cert.key, ca: opts.ca, servername: 'localhost' },
          cb,
        )
      : request(o, cb);
    req.on('error', reject);
    req.end();
  });
}

/** Opens a TCP connection, writes `msg`, and resolves with what came back before the close. */
export function tcpExchange(port: number, msg: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, TEST_IP);
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      s.end();
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(msg);
  });
}
