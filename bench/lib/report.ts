// Renders a benchmark run as markdown: machine facts, data-plane and control-plane tables with ratios, commands.
import type { ControlPlaneResult, CpuSplit, PushCounts, Spread } from '../control-plane.js';
import type { DataPlaneResult, ScenarioResult, TargetFigures } from '../data-plane.js';
import type { ProfileEntry } from './cpu-profile.js';
import type { MachineFacts } from './machine.js';
import { fmt, median, mib, ratio } from './stats.js';

/** Everything one `npm run bench` produced. */
export interface BenchReport {
  startedAt: Date;
  /** The command line the run was started with. */
  invocation: string;
  machine: MachineFacts;
  /** Seconds per point, rounds, warm-up. */
  settings: { seconds: number; rounds: number; warmupSeconds: number; fixedRate: number };
  dataPlane: DataPlaneResult | null;
  controlPlane: ControlPlaneResult | null;
  /** 1-minute load average when the run ended. */
  loadAtEnd: number;
  /** Phases that failed, with the reason. */
  failures: string[];
}

/** "value (a× / b×)": a value with its ratios to direct and to nginx. */
function withRatios(v: number, direct: number, nginx: number, digits?: number): string {
  return `${fmt(v, digits)} (${ratio(v, direct)} / ${ratio(v, nginx)})`;
}

/** One load shape's table; `heading` is the markdown heading prefix (`####` inside the two-worker section). */
function scenarioTable(sc: ScenarioResult, targets: string[], heading = '###', suffix = ''): string {
  const d = sc.byTarget['direct'];
  const n = sc.byTarget[targets.find((t) => t.startsWith('nginx')) ?? 'nginx'];
  const rows = targets.map((t) => {
    const f: TargetFigures | undefined = sc.byTarget[t];
    if (!f || f.rounds.length === 0) return `| ${t} | ${f?.failure ?? 'not run'} | | | | | | |`;
    const cpu = t === 'direct' ? '–' : `${fmt(f.cpuPer1k, 3)} (${ratio(f.cpuPer1k, n?.cpuPer1k ?? NaN)})`;
    return `| ${t} | ${withRatios(f.rps, d?.rps ?? NaN, n?.rps ?? NaN, 0)} | ${withRatios(f.p50, d?.p50 ?? NaN, n?.p50 ?? NaN)} | ${withRatios(f.p90, d?.p90 ?? NaN, n?.p90 ?? NaN)} | ${withRatios(f.p99, d?.p99 ?? NaN, n?.p99 ?? NaN)} | ${cpu} | ${t === 'direct' ? '–' : mib(f.peakRss)} | ${f.errors} |`;
  });
  return `${heading} ${sc.name}${suffix}

\`${sc.command}\`

| target | req/s (vs direct / vs nginx) | p50 ms | p90 ms | p99 ms | proxy CPU-s per 1000 req (vs nginx) | proxy peak RSS | errors |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

function addedLatencyTable(sc: ScenarioResult, targets: string[]): string {
  const d = sc.byTarget['direct'];
  const n = sc.byTarget['nginx'];
  if (!d || d.rounds.length === 0) return '';
  const add = (f: TargetFigures, k: 'p50' | 'p90' | 'p99'): number => f[k] - d[k];
  const rows = targets
    .filter((t) => t !== 'direct')
    .map((t) => {
      const f = sc.byTarget[t];
      if (!f || f.rounds.length === 0) return `| ${t} | ${f?.failure ?? 'not run'} | | |`;
      const cell = (k: 'p50' | 'p90' | 'p99'): string => {
        const a = add(f, k);
        const base = n && n.rounds.length ? add(n, k) : NaN;
        // A ratio to nginx's added latency only means something when nginx added some.
        return `${a < 0 ? '−' : '+'}${fmt(Math.abs(a), 3)} ms (${base > 0 && a >= 0 ? ratio(a, base) : '–'})`;
      };
      return `| ${t} | ${cell('p50')} | ${cell('p90')} | ${cell('p99')} |`;
    });
  return `Added latency over direct at the fixed rate (ratio: to nginx's added latency, where nginx added any; a negative value is within the run-to-run noise of the baseline):

| target | added p50 | added p90 | added p99 |
|---|---|---|---|
${rows.join('\n')}
`;
}

/** req/s with two workers over req/s with one, per proxy and load shape (the ×1 figures from the first part). */
function scalingTable(r: DataPlaneResult): string {
  const multi = r.concurrency.targets.filter((t) => t !== 'direct');
  const base = (t: string): string => t.replace(/ ×\d+$/, '');
  const mizzen = multi.find((t) => t.startsWith('Mizzen'));
  const nginx = multi.find((t) => t.startsWith('nginx'));
  const rows = r.concurrency.scenarios.map((sc) => {
    const one = r.scenarios.find((s) => s.name === sc.name);
    const rps = (s: ScenarioResult | undefined, t: string | undefined): number => {
      const f = t ? s?.byTarget[t] : undefined;
      return f && f.rounds.length ? f.rps : NaN;
    };
    const cells = multi.map((t) => ratio(rps(sc, t), rps(one, base(t))));
    return `| ${sc.name} | ${cells.join(' | ')} | ${ratio(rps(sc, mizzen), rps(sc, nginx))} |`;
  });
  return `Scaling: req/s with two workers ÷ req/s with one worker (the one-worker figures are the tables above, measured earlier in the same run; the load generator and the backend share the same cores, so on a small machine two workers cannot reach 2×; other load on the machine that changed between the two parts shows up in these ratios too):

| load | ${multi.map((t) => `${t} ÷ ${base(t)}`).join(' | ')} | ${mizzen ?? 'Mizzen'} ÷ ${nginx ?? 'nginx'} |
|---|${multi.map(() => '---|').join('')}---|
${rows.join('\n')}
`;
}

function dataPlaneSection(r: DataPlaneResult): string {
  const parts: string[] = [];
  parts.push(`## Data plane

Backend: **${r.backend.chosen}** (wrk -c50 probe: nginx serving a 1 KiB file with ${r.backend.workers} workers ${fmt(r.backend.nginxRps, 0)} req/s, minimal Node server ${fmt(r.backend.nodeRps, 0)} req/s; the faster one is used so the backend is not the bottleneck). Every proxy keeps connections to the backend alive. Targets listen on 127.0.0.1; one worker each (nginx \`worker_processes 1\`, HAProxy \`nbthread 1\`, Mizzen one process).${r.pinned ? ' CPUs pinned (`--pin`): the load generators, the backend and the benchmark itself on CPU 0, each proxy under test alone on CPU 1 (the 2-worker part on both).' : ''} Figures are medians over the rounds; in each cell, the ratios are to **direct** and to **nginx** measured in the same run. Latency ratios > 1× mean slower; req/s ratios < 1× mean fewer requests.
`);
  for (const sc of r.scenarios) {
    parts.push(scenarioTable(sc, r.targets));
    if (sc.name.startsWith('fixed rate')) parts.push(addedLatencyTable(sc, r.targets));
  }
  const mem = Object.entries(r.idleRss).map(([t, m]) => {
    const peak = Math.max(...r.scenarios.map((s) => s.byTarget[t]?.peakRss ?? 0));
    return `| ${t} | ${mib(m.start)} | ${mib(peak)} | ${mib(m.after)} |`;
  });
  parts.push(`### Memory (RSS of the proxy's whole process tree, from /proc/PID/status)

| proxy | idle after start | peak under load | idle after the runs |
|---|---|---|---|
${mem.join('\n')}
`);
  const split = Object.entries(r.mizzenClusterRequests)
    .map(([c, v]) => `${c} ${v}`)
    .join(', ');
  parts.push(
    `Mizzen's admin \`/stats\` after the runs (upstream_rq_total per cluster; the 80/20 split at work): ${split || 'not available'}.\n`,
  );
  if (r.concurrency.supported && r.concurrency.scenarios.length === 0) {
    parts.push('### Two workers each\n\nNot measured in this run (`--no-multi-core`).\n');
  } else if (r.concurrency.supported) {
    parts.push(
      `### Two workers each (nginx \`worker_processes 2\`, HAProxy \`nbthread 2\`, Mizzen \`--concurrency 2\`)

The first three load shapes again, against a second set of proxies with two workers each (direct measured again alongside). In these tables the ratios are to **direct** and to **nginx ×2** of this part; the scaling table after them compares each proxy with its one-worker self.
`,
    );
    for (const sc of r.concurrency.scenarios)
      parts.push(scenarioTable(sc, r.concurrency.targets, '####', ', two workers each'));
    parts.push(scalingTable(r));
  } else {
    parts.push(
      `### Multi-core mode\n\n\`mizzen proxy --help\` lists no \`--concurrency\` flag: Mizzen's proxy has no multi-core mode yet, so there is no 2-worker comparison.\n`,
    );
  }
  if (r.profile) {
    const row = (e: ProfileEntry, i: number): string =>
      `| ${i + 1} | \`${e.fn}\` | ${fmt(e.selfMs, 0)} | ${fmt(e.pct, 1)} % |`;
    parts.push(`### Where Mizzen's proxy spends CPU (node --cpu-prof, wrk -c50, self time)

Sampled during the measured wrk run only (start-up and a warm-up run excluded): ${fmt(r.profile.totalMs, 0)} ms. \`(program)\`/\`(garbage collector)\` are V8's own buckets; names without a file are native functions (V8, libuv, the write system calls). Profile file: \`${r.profile.file}\` (open it in Chrome DevTools).

By area:

| # | area | self ms | share |
|---|---|---|---|
${r.profile.byArea.map(row).join('\n')}

Top functions:

| # | function | self ms | share |
|---|---|---|---|
${r.profile.top.map(row).join('\n')}
`);
  }
  return parts.join('\n');
}

function spreadRow(name: string, s: Spread, clients: number): string {
  const others =
    s.elsewhere !== undefined && (s.expected ?? clients) < clients ? ` (others: ${s.elsewhere})` : '';
  return `| ${name} | ${fmt(s.p50, 0)} | ${fmt(s.p99, 0)} | ${fmt(s.max, 0)} | ${s.received}/${s.expected ?? clients}${others} |`;
}

/** The services and their layout: one namespace (as in reports from before the flag), or namespaces with a Sidecar each. */
function layoutText(r: ControlPlaneResult): string {
  const what = `${r.services} services (each a Service, a DestinationRule with 2 subsets, 2 Pods and a VirtualService with a header match and a 90/10 split`;
  const k = r.layout?.perNamespace ?? null;
  if (k === null) return `${what}: ${r.resources} resources)`;
  return `${what}) in ${r.layout!.namespaces} namespaces of ${k}, a Sidecar per namespace with egress \`./*\` and \`istio-system/*\` (${r.resources} resources with the Sidecars),`;
}

/** What the Sidecar scope means for the figures; empty for the one-namespace layout. */
function scopeNote(r: ControlPlaneResult): string {
  const k = r.layout?.perNamespace ?? null;
  if (k === null) return '';
  const ns = r.changeNamespace;
  return `
Sidecar scope: each simulated proxy lives in its service's namespace (node id \`sidecar~IP~POD.NS~NS.svc.cluster.local\`, metadata \`NAMESPACE\`), so it sees only that namespace's ${k} services. The edited VirtualService and the new service of the full push are in \`${ns?.name ?? 'ns-0'}\`, so only its ${ns?.clients ?? '?'} clients can see them: their rows' times and "clients reached" are over those clients, and "others" counts clients elsewhere that got the change anyway (0 when scoping holds).
`;
}

function pushCells(p: PushCounts | null | undefined): string {
  return p ? `${p.cds} | ${p.eds} | ${p.lds} | ${p.rds} | ${p.vhds ?? '-'}` : 'not measured | | | |';
}

/** Responses sent per phase (`pilot_xds_pushes{type}` deltas); "not measured" in reports from before they were. */
function pushTable(r: ControlPlaneResult): string {
  const audience = r.changeNamespace?.clients ?? r.clients;
  const p = r.pushes;
  if (!p)
    return 'Responses the server sent per phase (`pilot_xds_pushes{type}` deltas): not measured in this run.\n';
  const edits = r.vsChanges.map(
    (_, i) => `| VirtualService edit ${i + 1} | ${pushCells(p?.vsChanges[i])} | ${audience} |`,
  );
  return `Responses the server sent per phase, by type (deltas of \`pilot_xds_pushes{type}\` on its debug \`/metrics\`, read just before the phase and 1.5 s after its last expected arrival, or later if the server was still sending or busy then; for the cold sync, 3 s after the last client synced; the CPU figures below cover the same windows). The server regenerates a type for every proxy a change concerns but sends (and counts) a response only when that proxy's resources differ from what it last sent, so these count responses, not generations; the CPU figures below show the generation work.

| phase | CDS | EDS | LDS | RDS | VHDS | clients that can see the change |
|---|---|---|---|---|---|---|
| cold sync of the other ${r.clients - 1} | ${pushCells(p?.coldSync)} | ${r.clients - 1} |
${edits.join('\n')}
${p.endpointChange !== undefined ? `| endpoint-only change (one more Pod) | ${pushCells(p.endpointChange)} | ${audience} |\n` : ''}| full push (new service) | ${pushCells(p?.fullPush)} | ${audience} |

A VirtualService edit should cost one RDS response per client that can see it and nothing else (a sidecar's clusters and endpoints do not depend on VirtualServices). In the full push the EDS responses answer the clients' requests for the new clusters' endpoints; a Service change is not narrowed to the proxies that see it, so the server regenerates clusters, endpoints, routes and virtual hosts for every proxy (listeners only for those whose listeners it may change: none here) and sends only where the content changed (compare the full push's server CPU with an edit's).
`;
}

function cpuPair(c: CpuSplit): string {
  return `${fmt(c.server, 2)} / ${fmt(c.clients, 2)}`;
}

function streamErrors(r: ControlPlaneResult): string {
  const e = r.streamErrors as ControlPlaneResult['streamErrors'] | null; // null in reports from before it was counted
  if (!e) return 'not counted in this run';
  const evicted =
    e.sendTimeouts === undefined
      ? ''
      : `; streams the server evicted by its send timeout (\`pilot_xds_write_timeout\`): ${e.sendTimeouts ?? 'not read'}`;
  const pings =
    e.keepaliveCloses === undefined
      ? ''
      : `; connections the server closed for a keepalive PING unanswered within its keepalive timeout: ${e.keepaliveCloses ?? 'not traced'}`;
  return e.count ? `${e.count} (first: ${e.first}${evicted}${pings})` : `0${evicted}${pings}`;
}

/** Who the clients were. */
function clientsText(r: ControlPlaneResult): string {
  if (r.mizzenProxies)
    return `${r.clients} real Mizzen proxies (the proxy's own Delta ADS client, config manager and route, cluster and listener compilers; up to 100 per process in ${r.workers} worker processes, each with its listeners and admin on its own loopback address; a change counts as arrived when the proxy has applied the update carrying it, found by a scan of the applied resources, which the proxies' CPU includes)`;
  return `${r.clients} simulated proxies (raw ${r.xdsMode === 'delta' ? 'Delta ADS (incremental xDS)' : 'state-of-the-world ADS'} streams, one HTTP/2 connection each with Envoy's 256 MiB windows, in ${r.workers} worker processes; each subscribes CDS and LDS, then the EDS and RDS names they carry${r.vhds ? ', then VHDS for the route configs it holds (route configs come as VHDS stubs, their virtual hosts one resource each)' : r.xdsMode === 'delta' ? ' (no VHDS: route configs come whole)' : ''}, ACKs every response, and reconnects 0.5–1 s after a stream error as Envoy does)`;
}

function controlPlaneSection(r: ControlPlaneResult): string {
  const vs = r.vsChanges.map((s, i) => spreadRow(`VirtualService edit ${i + 1} → RDS`, s, r.clients));
  const medP50 = median(r.vsChanges.map((s) => s.p50));
  const medP99 = median(r.vsChanges.map((s) => s.p99));
  const audience = r.changeNamespace?.clients ?? r.clients;
  return `## Control plane

${layoutText(r)} served by \`mizzen server\` to ${clientsText(r)}. Times are from the file write (or from opening the streams) to the response's arrival at each client, so they include the config store noticing the change (an inotify watch and 25 ms quiet period; a 250 ms poll before 2026-11-24 evening) and the push debounce.
${scopeNote(r)}
Server start to "xds listening": ${fmt(r.startupMs, 0)} ms. ${r.mizzenProxies ? 'Resource bytes per client: not counted (a real proxy does not expose them).' : `Resource bytes per client in the initial sync (median): ${mib(r.bytesPerClient)} (${fmt(r.bytesPerClient / 1024, 0)} KiB).`}

| phase | p50 ms | p99 ms | max ms | clients reached |
|---|---|---|---|---|
| first client's initial sync (server's first generation) | ${fmt(r.firstSyncMs, 0)} | | | 1/1 |
${spreadRow(`cold sync of the other ${r.clients - 1} (streams opened at once)`, r.coldSync, r.clients - 1)}
${vs.join('\n')}
| VirtualService edit, median of the edits | ${fmt(medP50, 0)} | ${fmt(medP99, 0)} | | |
${r.endpointChange ? `${spreadRow('endpoint-only change (one more Pod) → EDS', r.endpointChange, r.clients)}\n` : ''}${spreadRow('full push: new service → CDS', r.fullPushCds, r.clients)}
${spreadRow('full push: new service → RDS (complete)', r.fullPushRds, r.clients)}

${pushTable(r)}
CPU-seconds, server / all ${r.mizzenProxies ? 'Mizzen proxies' : 'simulated clients'}: cold sync ${cpuPair(r.cpu.coldSync)}, per VirtualService edit (median) ${cpuPair(r.cpu.perVsChange)}, ${r.cpu.endpointChange ? `endpoint-only change ${cpuPair(r.cpu.endpointChange)}, ` : ''}full push ${cpuPair(r.cpu.fullPush)} (per proxy ${audience < r.clients ? 'that can see the edit' : 'and push'}: ${fmt((1000 * r.cpu.perVsChange.server) / audience, 1)} ms of server CPU). Server RSS: ${mib(r.rss.beforeClients)} before clients, ${mib(r.rss.idleSynced)} idle with all clients synced, ${mib(r.rss.peak)} peak.${r.mizzenProxies ? ` The proxies' worker processes with all synced: ${mib(r.mizzenProxies.workersRssSynced)} RSS together, ${mib(r.mizzenProxies.workersRssSynced / r.clients)} per proxy.` : ''}

${r.mizzenProxies ? `Proxies that failed to start: ${streamErrors(r)} (a real proxy reconnects its ADS stream by itself; the server's \`pilot_xds_write_timeout\` counts evictions).` : `Client streams that ended with an error (each client then reconnected): ${streamErrors(r)}.`}

Command: \`${r.command}\`; clients: \`node dist/bench/ads-sim-worker.js\` × ${r.workers}, driven over IPC by \`bench/control-plane.ts\`.
`;
}

/** The whole report. */
export function renderReport(r: BenchReport): string {
  const m = r.machine;
  const pkgs = Object.entries(m.packages)
    .map(([p, v]) => `${p} ${v}`)
    .join(', ');
  const dp = r.dataPlane;
  const commands = dp ? dp.commands.map((c) => `- \`${c}\``).join('\n') : '';
  return `# Mizzen benchmark, ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${m.host}

Machine: ${m.cores} cores, ${m.model}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}. Packages: ${pkgs}. Mizzen commit ${m.commit}. Load average (1 min) when the run started: ${fmt(m.loadAtStart, 2)}, when it ended: ${fmt(r.loadAtEnd, 2)} (other work on the machine shows up here; on ${m.cores} cores anything above ~${m.cores} means the figures carry noise from it).

Run: \`${r.invocation}\` — ${r.settings.seconds} s per point, ${r.settings.rounds} rounds alternating the targets (direct, nginx, HAProxy, Mizzen, direct, ...), ${r.settings.warmupSeconds} s warm-up per target and load shape; load generator and servers share the machine's ${m.cores} cores.
${r.failures.length ? `\n**Failed phases:**\n${r.failures.map((f) => `- ${f}`).join('\n')}\n` : ''}
${dp ? dataPlaneSection(dp) : ''}
${r.controlPlane ? controlPlaneSection(r.controlPlane) : ''}
## Commands

${commands}
- load: the command under each table, with TARGET_URL = \`http://127.0.0.1:PORT/1k\` of each target (h2load speaks h2c with prior knowledge).
`;
}
