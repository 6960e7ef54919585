// Certificate rotation under load: a real `mizzen server` (CA) and two real sidecars with short-lived
// certificates, steady HTTP load from the client sidecar to the server sidecar over Istio mutual TLS,
// and a count of failed requests and of rotations seen on each side. Not a test: prints the figures.
//   node dist/bench/cert-rotation.js [--seconds 60] [--rate 1000] [--cert-ttl 30s] [--requests-per-connection 100]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { startServer } from '../src/cli/server-test-util.js';
import { spawnProxy, startBackend, type ProxyChild } from '../src/proxy/test-util.js';
import { ensureLocalTokenKey, issueLocalToken } from '../src/ca/token.js';

const { values: o } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '1000' },
    'cert-ttl': { type: 'string', default: '30s' },
    'requests-per-connection': { type: 'string', default: '100' },
  },
});
const SECONDS = Number(o.seconds);
const RATE = Number(o.rate);
const NET = '127.77.1';
const APP_IP = `${NET}.1`;
const HTTPBIN_IP = `${NET}.2`;
const SLEEP_IP = `${NET}.4`;

function manifests(port: number, perConnection: number): string {
  const pod = (name: string, ip: string, ports: string): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}-0, namespace: foo, labels: { app: ${name}, security.istio.io/tlsMode: istio } }
spec: { serviceAccountName: ${name}, containers: [{ name: ${name}${ports} }] }
status: { phase: Running, podIP: ${ip}, conditions: [{ type: Ready, status: "True" }] }
`;
  return [
    `apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: foo }
spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000, targetPort: ${port} }] }
`,
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin, namespace: foo }
spec:
  host: httpbin.foo.svc.cluster.local
  trafficPolicy: { connectionPool: { http: { maxRequestsPerConnection: ${perConnection} } } }
`,
    `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec: { mtls: { mode: STRICT } }
`,
    pod('httpbin', HTTPBIN_IP, `, ports: [{ containerPort: ${port} }]`),
    pod('sleep', SLEEP_IP, ''),
  ].join('---\n');
}

async function sidecar(
  xds: string,
  dir: string,
  name: string,
  ip: string,
  token: string,
): Promise<ProxyChild> {
  const tokenFile = join(dir, `${name}.jwt`);
  writeFileSync(tokenFile, token);
  const md = {
    NAMESPACE: 'foo',
    SERVICE_ACCOUNT: name,
    LABELS: { app: name },
    INSTANCE_IPS: ip,
    INTERCEPTION_MODE: 'NONE',
    MIZZEN_APP_HOST: APP_IP,
  };
  return spawnProxy(
    [
      'sidecar',
      '--xds-address',
      xds,
      '--id',
      `sidecar~${ip}~${name}-0.foo~foo.svc.cluster.local`,
      '--metadata',
      JSON.stringify(md),
      '--admin-port',
      '0',
      '--token-file',
      tokenFile,
      '--cert-ttl',
      String(o['cert-ttl']),
      '--cert-rotation-fraction',
      '0.5',
    ],
    join(dir, `${name}.ready`),
  );
}

async function servingSerial(p: ProxyChild): Promise<string> {
  const dump = (await fetch(`http://127.0.0.1:${p.ports.adminPort}/config_dump`).then((r) => r.json())) as {
    configs: Array<{ dynamicActiveSecrets?: Array<{ name: string; versionInfo: string }> }>;
  };
  for (const c of dump.configs)
    for (const s of c.dynamicActiveSecrets ?? []) if (s.name === 'default') return s.versionInfo;
  return '';
}

/** The first distinct transport errors seen. */
const errors = new Set<string>();

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One GET through the sleep sidecar's HTTP proxy port: the status, 0 on a transport error. */
function get(): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: SLEEP_IP, port: 15001, path: 'http://httpbin.foo:8000/get', agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', (e: Error) => {
      if (errors.size < 10) errors.add(e.message);
      resolve(0);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-rotation-'));
  const backend = await startBackend('httpbin');
  await new Promise<void>((r) => backend.server.close(() => r()));
  await new Promise<void>((r) => backend.server.listen(0, APP_IP, r));
  const port = (backend.server.address() as { port: number }).port;
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  writeFileSync(join(configDir, 'mesh.yaml'), manifests(port, Number(o['requests-per-connection'])));
  const server = await startServer(configDir, ['--ca-dir', join(dir, 'ca')]);
  const key = ensureLocalTokenKey(join(dir, 'ca'));
  const proxies: ProxyChild[] = [];
  try {
    for (const [name, ip] of [
      ['httpbin', HTTPBIN_IP],
      ['sleep', SLEEP_IP],
    ] as const)
      proxies.push(
        await sidecar(
          server.xds,
          dir,
          name,
          ip,
          await issueLocalToken(key, { namespace: 'foo', serviceAccount: name, pod: `${name}-0` }),
        ),
      );
    for (let i = 0; i < 300 && (await get()) !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    const codes: Record<string, number> = {};
    const serials = { httpbin: new Set<string>(), sleep: new Set<string>() };
    const t0 = Date.now();
    const end = t0 + SECONDS * 1000;
    let sent = 0;
    const inflight = new Set<Promise<void>>();
    // Open loop at RATE: every 10 ms, send what the schedule says is due (capped by 64 in flight).
    const sampler = setInterval(() => {
      void servingSerial(proxies[0]).then((s) => serials.httpbin.add(s));
      void servingSerial(proxies[1]).then((s) => serials.sleep.add(s));
    }, 1000);
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
      while (sent < due && inflight.size < 64) {
        sent++;
        const p: Promise<void> = get().then((s) => {
          codes[s] = (codes[s] ?? 0) + 1;
          inflight.delete(p);
        });
        inflight.add(p);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inflight);
    clearInterval(sampler);
    const secs = (Date.now() - t0) / 1000;
    const total = Object.values(codes).reduce((a, b) => a + b, 0);
    const failed = total - (codes['200'] ?? 0);
    console.log(
      JSON.stringify(
        {
          seconds: Number(secs.toFixed(1)),
          targetRate: RATE,
          achievedRate: Math.round(total / secs),
          requests: total,
          failed,
          codes,
          errors: [...errors],
          certTtl: o['cert-ttl'],
          requestsPerUpstreamConnection: Number(o['requests-per-connection']),
          certificatesServed: { httpbin: serials.httpbin.size, sleep: serials.sleep.size },
        },
        null,
        2,
      ),
    );
  } finally {
    agent.destroy();
    for (const p of proxies) p.child.kill('SIGTERM');
    await Promise.all(proxies.map((p) => p.exited));
    await server.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
