// Beyond one machine: three "hosts" (network namespaces behind a router namespace), each with its own
// pods (an unmodified echo app + a captured `mizzen proxy sidecar`) that auto-register as
// WorkloadEntries with their host's locality, and one control plane for all. Shown: cross-host
// traffic; locality-prioritized routing that keeps a client on its own host and fails over by zone,
// then region, when the local pod dies (outlier detection, as Istio requires); and a partitioned host
// that, when its link returns, gets the config made meanwhile and carries traffic both ways again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyRemote, listRemote } from '../../src/cli/remote-config.js';
import { waitFor } from '../../src/api/test-util.js';
import { APP_PORT, FIXTURES, MultiHost, multiHostUnavailable, type Pod } from './harness.js';

/** Each host's locality: two zones of region1, one of region2. */
const HOSTS = {
  a: { region: 'region1', zone: 'zone-a' },
  b: { region: 'region1', zone: 'zone-b' },
  c: { region: 'region2', zone: 'zone-c' },
} as const;
type HostName = keyof typeof HOSTS;

/**
 * How each host's sidecars say where they run, one of Istio's three ways per host: a's the
 * `istio-locality` label, b's the topology labels, c's its bootstrap's node.locality.
 */
function placement(h: HostName): {
  labels: Record<string, string>;
  nodeLocality?: { region: string; zone: string };
} {
  const { region, zone } = HOSTS[h];
  if (h === 'a') return { labels: { 'istio-locality': `${region}.${zone}` } };
  if (h === 'b')
    return { labels: { 'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone } };
  return { labels: {}, nodeLocality: { region, zone } };
}

const MESH = `
apiVersion: v1
kind: Service
metadata: { name: echo }
spec:
  clusterIP: 10.96.0.80
  selector: { app: echo }
  ports: [{ name: http, port: ${APP_PORT} }]
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: { name: echo }
spec:
  metadata: { labels: { app: echo } }
  template: { serviceAccount: echo }
`;

/** Istio's locality failover needs outlier detection; subsets name each host's pod. */
const DESTINATION_RULE = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo.default.svc.cluster.local
  trafficPolicy:
    connectionPool: { tcp: { connectTimeout: 1s } }
    loadBalancer: { simple: ROUND_ROBIN, localityLbSetting: { enabled: true } }
    outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
  subsets:
${Object.keys(HOSTS)
  .map((h) => `    - { name: ${h}, labels: { host: ${h} } }`)
  .join('\n')}
`;

/** Made while host b is cut off: `x-host: <h>` picks host h's subset; every answer says `x-config: v2`. */
const VIRTUAL_SERVICE = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo.default.svc.cluster.local]
  http:
${Object.keys(HOSTS)
  .map(
    (h) => `    - match: [{ headers: { x-host: { exact: ${h} } } }]
      headers: { response: { set: { x-config: v2 } } }
      route: [{ destination: { host: echo.default.svc.cluster.local, subset: ${h} } }]`,
  )
  .join('\n')}
    - headers: { response: { set: { x-config: v2 } } }
      route: [{ destination: { host: echo.default.svc.cluster.local } }]
`;

/** One answer seen by the client app: HTTP status, which host's echo answered, the x-config header. */
interface Answer {
  status: number;
  by: string;
  config: string;
}

let bed: MultiHost | undefined;
let tmp = '';
const pods = new Map<string, Pod>();
const pod = (name: string): Pod => pods.get(name)!;

/** `n` GETs of http://echo:8000/ by Node's fetch inside `from`, through its sidecar (capture + DNS). */
async function send(from: string, n: number, ...headers: string[]): Promise<Answer[]> {
  const r = await bed!.exec(pod(from), [
    process.execPath,
    `${FIXTURES}client.mjs`,
    `http://echo:${APP_PORT}/`,
    String(n),
    ...headers,
  ]);
  assert.equal(r.code, 0, `client in ${from}: ${r.err}`);
  return r.out
    .trim()
    .split('\n')
    .map((l) => {
      const [status, by, config] = l.split(' ');
      return { status: Number(status), by, config };
    });
}

const summary = (as: readonly Answer[]): string => as.map((a) => `${a.status}:${a.by}`).join(' ');

/** `200 from a: 30` style counts, for the test's log (docs/high-availability.md quotes it). */
function tally(as: readonly Answer[]): string {
  const n = new Map<string, number>();
  for (const a of as) n.set(`${a.status} from ${a.by}`, (n.get(`${a.status} from ${a.by}`) ?? 0) + 1);
  return [...n].map(([k, v]) => `${k}: ${v}`).join(', ');
}

/** Polls batches of `n` until one is entirely 200s from `host`; returns every answer seen meanwhile. */
async function until(
  what: string,
  from: string,
  host: HostName,
  n = 10,
  ...headers: string[]
): Promise<Answer[]> {
  const seen: Answer[] = [];
  await waitFor(
    what,
    async () => {
      const batch = await send(from, n, ...headers);
      seen.push(...batch);
      return batch.every((a) => a.status === 200 && a.by === host);
    },
    30_000,
    100,
  ).catch((e: Error) => assert.fail(`${e.message}; answers: ${summary(seen.slice(-30))}\n${bed!.deaths()}`));
  return seen;
}

/** A counter from a sidecar's admin /stats (on its pod IP, reachable from the root namespace). */
async function stat(p: Pod, name: string): Promise<number> {
  const text = await (await fetch(`http://${p.ip}:15000/stats`)).text();
  const m = new RegExp(`^${name.replace(/[|.]/g, '\\$&')}: (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const CLUSTER = `cluster.outbound|${APP_PORT}||echo.default.svc.cluster.local`;

/** Envoy's control_plane.connected_state of a pod's sidecar, read from its host (reachable while cut off). */
async function connectedState(p: Pod): Promise<string> {
  const script = `fetch('http://${p.ip}:15000/stats').then((r) => r.text()).then(console.log, (e) => console.log(e.message))`;
  const r = await bed!.hostExec(p.host.name, [process.execPath, '-e', script]);
  return /^control_plane\.connected_state: (\d+)$/m.exec(r.out)?.[1] ?? `none: ${r.out.slice(0, 200)}`;
}

/** The ADS streams the control plane holds for a pod's sidecar (connection ids, from /debug/syncz). */
async function streamsOf(p: Pod): Promise<string[]> {
  const syncz = (await (await fetch(`http://${bed!.debugUrl}/debug/syncz`)).json()) as {
    id: string;
    connectionId: string;
  }[];
  return syncz.filter((s) => s.id === p.nodeId).map((s) => s.connectionId);
}

describe('multi-host: three hosts, one control plane', { timeout: 180_000 }, () => {
  before(async () => {
    assert.equal(
      multiHostUnavailable(),
      null,
      'the multi-host test needs Linux, root, iproute2, iptables, util-linux (setpriv) and etcd',
    );
    tmp = mkdtempSync(join(tmpdir(), 'mz-multihost-'));
    bed = new MultiHost(`multi-host:${process.cwd()}`, tmp);
    bed.createRouter();
    for (const h of Object.keys(HOSTS)) bed.addHost(h);
    const etcd = await bed.startEtcd();
    // A long grace period: a dead pod's entry stays, so failover below is locality + outlier detection.
    await bed.startControlPlane([
      '--etcd',
      etcd,
      '--etcd-prefix',
      '/multi-host/',
      '--name',
      'cp',
      '--workload-entry-grace-period',
      '5m',
      // Both ends ping (the sidecars from their bootstrap): a cut-off host's stream dies in seconds.
      '--keepalive-interval',
      '2s',
      '--keepalive-timeout',
      '2s',
    ]);
    const applied = await applyRemote(bed.debugUrl, [{ file: 'mesh.yaml', text: MESH }], 'default');
    assert.ok(applied.ok, applied.error);
    const started = await Promise.all([
      ...(Object.keys(HOSTS) as HostName[]).map((h) =>
        bed!.startPod(h, `echo-${h}`, {
          labels: { app: 'echo', host: h, ...placement(h).labels },
          nodeLocality: placement(h).nodeLocality,
          group: 'echo',
          app: [process.execPath, `${FIXTURES}echo.mjs`, h, String(APP_PORT)],
        }),
      ),
      bed.startPod('a', 'client', { labels: { app: 'client', ...placement('a').labels } }),
    ]);
    for (const p of started) pods.set(p.name, p);
  });

  after(async () => {
    await bed?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("each host's sidecar auto-registers a WorkloadEntry with its pod IP and its host's locality", async () => {
    const entries = await waitFor(
      'three WorkloadEntries',
      async () => {
        const list = await listRemote(bed!.debugUrl, ['WorkloadEntry'], 'default');
        return list.length === 3 ? list : null;
      },
      20_000,
      100,
    );
    for (const [h, { region, zone }] of Object.entries(HOSTS)) {
      const e = entries.find((x) => x.metadata.name === `echo-${pod(`echo-${h}`).ip}`);
      assert.ok(e, `entry of echo-${h}: ${JSON.stringify(entries.map((x) => x.metadata.name))}`);
      const spec = e.spec as { address: string; locality: string; labels: Record<string, string> };
      assert.equal(spec.address, pod(`echo-${h}`).ip);
      assert.equal(spec.locality, `${region}/${zone}`);
      assert.equal(spec.labels.host, h);
    }
  });

  it('cross-host: a client on host a reaches the pods on b and c; a pod on c reaches a and b', async () => {
    const from = async (client: string, want: HostName[]): Promise<void> => {
      const seen = new Set<string>();
      const all: Answer[] = [];
      await waitFor(
        `${client} answered by ${want.join(', ')}`,
        async () => {
          const batch = await send(client, 9);
          all.push(...batch);
          for (const a of batch) if (a.status === 200) seen.add(a.by);
          return want.every((h) => seen.has(h));
        },
        30_000,
        100,
      ).catch((e: Error) => assert.fail(`${e.message}; seen ${[...seen].join(',')}\n${bed!.deaths()}`));
      console.log(`# ${client} (host ${pod(client).host.name}) → echo: ${tally(all)}`);
    };
    // No DestinationRule yet: no locality preference, every endpoint takes its share.
    await from('client', ['a', 'b', 'c']);
    await from('echo-c', ['a', 'b']);
  });

  it("locality: traffic stays on the client's host and fails over to its region's other zone when the host's pod dies", async () => {
    const applied = await applyRemote(
      bed!.debugUrl,
      [{ file: 'destination-rule.yaml', text: DESTINATION_RULE }],
      'default',
    );
    assert.ok(applied.ok, applied.error);
    await until('every answer from host a (same zone)', 'client', 'a');
    const stay = await send('client', 30);
    assert.deepEqual(new Set(stay.map((a) => `${a.status}:${a.by}`)), new Set(['200:a']), summary(stay));
    console.log(`# with the DestinationRule, client (host a) → echo: ${tally(stay)}`);

    // Host a's pod dies (app and sidecar). Its WorkloadEntry stays (5 min grace): outlier detection
    // ejects it and the next priority takes over: zone-b of the same region, never region2 while b is up.
    await Promise.all([pod('echo-a').app!.kill(), pod('echo-a').sidecar.kill()]);
    const failover = await until('every answer from host b (same region)', 'client', 'b');
    assert.equal(
      failover.filter((a) => a.by === 'c').length,
      0,
      `region2 answered while region1 had a healthy pod: ${summary(failover)}`,
    );
    const ejections = await stat(pod('client'), `${CLUSTER}.outlier_detection.ejections_enforced_total`);
    assert.ok(ejections >= 1);
    console.log(
      `# echo-a killed; until all from b: ${tally(failover)}; ejections_enforced_total ${ejections}`,
    );
    const names = (await listRemote(bed!.debugUrl, ['WorkloadEntry'], 'default')).map((e) => e.metadata.name);
    assert.ok(
      names.includes(`echo-${pod('echo-a').ip}`),
      `a's entry is still registered: ${names.join(',')}`,
    );
  });

  it('partition: with host b cut off traffic fails over to region2; b reconnects when its link returns, gets the config made meanwhile and carries traffic both ways', async () => {
    const b = pod('echo-b');
    const [before] = await streamsOf(b);
    assert.ok(before, "b's sidecar is connected before the partition");
    assert.equal(await connectedState(b), '1');
    bed!.partition('b');
    const cut = await until('every answer from host c while b is cut off', 'client', 'c');
    console.log(`# host b cut off; until all from c: ${tally(cut)}`);
    // Both ends find the stream dead (HTTP/2 keepalive): b's sidecar keeps serving its last config,
    // the control plane drops the stream (the entry's grace period starts).
    await waitFor('b to notice the partition', async () => (await connectedState(b)) === '0', 20_000, 200);
    await waitFor(
      'the control plane to drop b',
      async () => !(await streamsOf(b)).includes(before),
      20_000,
      200,
    );
    console.log(`# b's sidecar: control_plane.connected_state 0; the control plane dropped stream ${before}`);
    const during = await applyRemote(
      bed!.debugUrl,
      [{ file: 'virtual-service.yaml', text: VIRTUAL_SERVICE }],
      'default',
    );
    assert.ok(during.ok, during.error);
    bed!.heal('b');
    // It reconnects: a new stream on the control plane, connected_state 1 again.
    await waitFor(
      "b's sidecar on a new ADS stream",
      async () => (await streamsOf(b)).some((id) => id !== before) && (await connectedState(b)) === '1',
      30_000,
      200,
    );
    console.log(
      `# link back; b's sidecar on stream ${(await streamsOf(b)).filter((id) => id !== before).join(',')}`,
    );
    // From b: the VirtualService made during the partition routes its x-host: c request to host c.
    const fromB = await until('b reaching c by the new route', 'echo-b', 'c', 5, 'x-host:c');
    assert.equal(fromB.at(-1)!.config, 'v2');
    // To b: the client on a reaches b's pod again (b's own subset, untouched by the ejection).
    const toB = await until('a reaching b again', 'client', 'b', 5, 'x-host:b');
    assert.equal(toB.at(-1)!.config, 'v2');
    console.log(
      `# echo-b (x-host: c) → ${tally(fromB.slice(-5))}; client (x-host: b) → ${tally(toB.slice(-5))}; x-config v2`,
    );
  });
});
