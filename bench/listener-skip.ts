// `node dist/bench/listener-skip.js`: what leaving sidecars' listeners alone saves when a service is
// deployed, measured in one process so that the machine's noise between runs does not enter. It writes the
// control-plane benchmark's mesh (N services, then one more), evaluates the push filter of that change for
// M simulated sidecars (as the server does once per push), then generates and encodes every sidecar's
// listeners (what the server would do for each proxy without the filter), and prints both times per round.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPaths } from '../src/api/load.js';
import type { ConfigChange, ConfigSnapshot } from '../src/config/store.js';
import { buildSnapshot, diffResources } from '../src/config/snapshot.js';
import { affectedProxies } from '../src/pilot/discovery.js';
import { Generator, type ProxyRef } from '../src/pilot/generator.js';
import { buildPushContext } from '../src/pilot/push-context.js';
import type { ProxyInfo } from '../src/xds/ads-server.js';
import { encodeResource } from '../src/xds/protos.js';
import { structFromJson } from '../src/xds/struct.js';
import { TypeUrl } from '../src/xds/type-urls.js';
import { simNodes, writeServices } from './lib/mesh-config.js';

const HELP = `usage: node dist/bench/listener-skip.js [--services N] [--proxies M] [--rounds R]
  --services N   services before the change (one more is deployed)   [1000]
  --proxies M    simulated sidecars                                 [2000]
  --rounds R     rounds                                             [3]
  --redirect     sidecars capture traffic (REDIRECT, as in Kubernetes) instead of the benchmark's
                 local mode (INTERCEPTION_MODE NONE)`;

const { values } = parseArgs({
  options: {
    services: { type: 'string' },
    proxies: { type: 'string' },
    rounds: { type: 'string' },
    redirect: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const services = Number(values.services ?? 1000);
const proxies = Number(values.proxies ?? 2000);
const rounds = Number(values.rounds ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'mizzen-listener-skip-'));
/** The mesh of `n` services as the control-plane benchmark writes it. */
function mesh(n: number): ConfigSnapshot {
  writeServices(dir, 0, n);
  const files = ['services', 'virtualservices'].flatMap((d) =>
    readdirSync(join(dir, d)).map((f) => join(dir, d, f)),
  );
  const loaded = loadPaths(files);
  if (loaded.diagnostics.some((d) => d.severity === 'error')) throw new Error('the mesh did not load');
  return buildSnapshot(n, loaded.resources);
}

const before = mesh(services);
const after = mesh(services + 1);
rmSync(dir, { recursive: true, force: true });
const events = diffResources(before.resources, after.resources);
const kinds = new Set(events.map((e) => (e.type === 'deleted' ? e.previous.kind : e.resource.kind)));
const change: ConfigChange = { snapshot: after, previous: before, events, kinds };
const pushBefore = buildPushContext(before);
const pushAfter = buildPushContext(after, null, pushBefore, kinds);
const nodes = simNodes(services, proxies).map((n) =>
  values.redirect ? { ...n, metadata: { ...n.metadata, INTERCEPTION_MODE: 'REDIRECT' } } : n,
);
const infos: ProxyInfo[] = nodes.map((n) => ({
  id: n.id,
  metadata: n.metadata,
  node: { id: n.id, metadata: structFromJson(n.metadata) },
  connectionId: n.id,
  connectedAt: 0,
  peer: '',
  vhds: true,
}));
// The same proxies as the generator is asked for them (its cache key: id, metadata, locality, VHDS).
const refs: ProxyRef[] = infos;

console.log(
  `${services} services + 1 deployed (${[...kinds].join(', ')}), ${proxies} simulated sidecars ` +
    `(${values.redirect ? 'REDIRECT' : 'local mode'}), ${rounds} rounds\n`,
);
console.log(
  '| round | push filter, all proxies | proxies that skip LDS | listeners generated and encoded, all proxies | bytes per proxy |',
);
console.log('|---|---|---|---|---|');
for (let round = 1; round <= rounds; round++) {
  const generator = new Generator(() => pushAfter);
  // The server makes every proxy's scope for the push whether or not it filters (the filter's scope is
  // the one generation then uses), so scopes are made first and are not what is compared.
  for (const r of refs) generator.scope(r);
  let t = performance.now();
  const filter = affectedProxies(change, {
    before: pushBefore,
    after: pushAfter,
    scope: (p) => generator.scope(p),
  });
  if (!filter) throw new Error('the change pushes nothing');
  let skip = 0;
  for (const p of infos) {
    const types = filter(p);
    if (types instanceof Set && !types.has(TypeUrl.LISTENER)) skip++;
  }
  const filterMs = performance.now() - t;
  t = performance.now();
  let bytes = 0;
  for (const r of refs)
    for (const l of generator.generate(r, TypeUrl.LISTENER, []))
      bytes += encodeResource(TypeUrl.LISTENER, l).value.length;
  const listenersMs = performance.now() - t;
  console.log(
    `| ${round} | ${filterMs.toFixed(0)} ms | ${skip} | ${listenersMs.toFixed(0)} ms | ${(bytes / proxies).toFixed(0)} B |`,
  );
}
