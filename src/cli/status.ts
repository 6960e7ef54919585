// `mizzen status`: the pods of the running mesh like `kubectl get pods`, plus version and sidecar sync state.
import { defineCommand, UsageError } from './command.js';
import { podReadiness, proxyReady } from '../local/readiness.js';
import { podStatus } from '../local/pod-status.js';
import { liveState } from '../local/run-state.js';
import { fetchSyncz, syncStateOf } from '../local/syncz.js';
import { formatAge, formatTable } from '../local/table.js';

const HELP = `usage: mizzen status [--run-dir PATH] [-o json]

Lists the pods of the mesh started by \`mizzen up\`: NAME READY STATUS RESTARTS AGE IP VERSION SIDECAR,
where SIDECAR is the proxy's xDS sync state (SYNCED, STALE, NOT CONNECTED) from the control plane.
A pod with a container that has only an \`image:\` (no command; mizzen runs nothing for it) shows
STATUS ImageNotRun, that container counted as not ready, and a line naming it below the table.`;

export default defineCommand({
  name: 'status',
  summary: 'list the pods of the local mesh with readiness, restarts and sidecar sync state',
  help: HELP,
  runDir: true,
  meshNetwork: true,
  flags: {
    output: { type: 'string', short: 'o' },
  },
  async run({ flags: values, paths }) {
    if (values.output && values.output !== 'json') throw new UsageError(`-o must be json`);
    const live = liveState(paths);
    if ('error' in live) {
      console.error(`mizzen status: ${live.error}`);
      return 1;
    }
    const s = live.state;
    const [sync, gatewayReady, ...probes] = await Promise.all([
      fetchSyncz(s.debugAddress),
      proxyReady(s.gateway.adminPort),
      ...s.pods.map((p) => podReadiness(p, s.processes[p.sidecar.process]?.pid)),
    ]);
    const now = Date.now();
    const rows = s.pods.map((p, i) => {
      const c = podStatus(p, s.processes, probes[i]);
      return {
        name: p.name,
        namespace: p.namespace,
        ready: c.ready,
        status: c.status,
        restarts: c.restarts,
        age: formatAge(now - p.createdAt),
        ip: p.podIp,
        version: p.labels['version'] ?? '-',
        sidecar: syncStateOf(sync, p.sidecar.nodeId),
        ...(p.imageOnly ? { imageOnly: p.imageOnly } : {}),
      };
    });
    const gw = s.processes[s.gateway.process];
    const gwName = s.gateway.nodeId.split('~')[2].split('.')[0];
    rows.push({
      name: gwName,
      namespace: 'istio-system',
      ready: gatewayReady && gw?.state === 'running' ? '1/1' : '0/1',
      status:
        gw?.state === 'running'
          ? 'Running'
          : gw?.state === 'backoff'
            ? 'CrashLoopBackOff'
            : (gw?.state ?? '-'),
      restarts: gw?.restarts ?? 0,
      age: formatAge(now - (s.startedAt ?? now)),
      ip: '127.0.0.1',
      version: '-',
      sidecar: syncStateOf(sync, s.gateway.nodeId),
    });
    if (values.output === 'json') {
      console.log(JSON.stringify({ phase: s.phase, xdsAddress: s.xdsAddress, pods: rows }, null, 2));
      return 0;
    }
    const server = s.processes[s.server.process];
    const serverState = sync
      ? 'serving'
      : server?.state === 'running'
        ? 'not answering'
        : (server?.state ?? 'gone');
    console.log(
      `control plane: ${serverState} (xDS ${s.xdsAddress}, debug ${s.debugAddress}, restarts ${server?.restarts ?? 0}); mesh ${s.phase}` +
        (s.message ? ` — ${s.message}` : ''),
    );
    console.log(
      formatTable(
        ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'VERSION', 'SIDECAR'],
        rows.map((r) => [r.name, r.ready, r.status, String(r.restarts), r.age, r.ip, r.version, r.sidecar]),
      ),
    );
    for (const p of s.pods)
      for (const c of p.imageOnly ?? [])
        console.log(
          `${p.name}: container ${c} has only an image and no command, so nothing runs for it (add command/args)`,
        );
    return 0;
  },
});
