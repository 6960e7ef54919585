// `mizzen kube-inject -f FILE|-`: inject sidecars into Kubernetes workload manifests offline (like istioctl kube-inject).
import { readFileSync, writeFileSync } from 'node:fs';
import { defineCommand, UsageError } from './command.js';
import { formatDiagnostic, sortDiagnostics } from '../api/diagnostic.js';
import { injectManifests } from '../kube/inject.js';
import { meshPrometheusMerge } from '../local/prometheus-merge.js';
import { defaultDiscoveryAddress, defaultImage } from '../kube/defaults.js';

const HELP = `usage: mizzen kube-inject -f FILE|- [-o FILE] [--image IMAGE] [--discovery-address HOST:PORT]
                           [--mesh-config-file FILE]

Adds Mizzen's sidecar (container istio-proxy) and capture init container (istio-init) to every pod
template in the manifests: Pods, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
ReplicationControllers, and Lists of them. Other documents pass through. Honours Istio's annotations:
sidecar.istio.io/inject ("false" skips), proxyCPU, proxyMemory, proxyCPULimit, proxyMemoryLimit,
proxyImage, logLevel, status.sidecar.istio.io/port, readiness.status.sidecar.istio.io/*,
traffic.sidecar.istio.io/{include,exclude}{Inbound,Outbound}Ports, ...OutboundIPRanges, and
proxy.istio.io/config holdApplicationUntilProxyStarts. Other sidecar.istio.io/* annotations are
reported as not supported. A bad annotation value stops it with file:line:col and field.

  -f FILE|-                 manifests to inject ("-" reads stdin)
  -o FILE                   write the result there instead of stdout
  --image IMAGE             proxy image                         [mizzen/mizzen:VERSION]
  --discovery-address H:P   control plane xDS address(es), comma separated for replicas
                                                                [istiod.istio-system.svc:15010]
  --mesh-config-file FILE   MeshConfig YAML (ConfigMap istio's \`mesh\` key, as istioctl's
                            --meshConfigFile); read: enablePrometheusMerge  [Istio's defaults]`;

export default defineCommand({
  name: 'kube-inject',
  summary: 'inject sidecars into Kubernetes manifests (like istioctl kube-inject)',
  help: HELP,
  flags: {
    filename: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    image: { type: 'string' },
    'discovery-address': { type: 'string' },
    'mesh-config-file': { type: 'string' },
  },
  async run({ flags }) {
    const file = flags.filename;
    if (!file) throw new UsageError('expected -f FILE or -f - for stdin');
    let text: string;
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      console.error(`mizzen kube-inject: cannot read ${file}: ${(err as Error).message}`);
      return 1;
    }
    let meshText: string | undefined;
    if (flags['mesh-config-file'])
      try {
        meshText = readFileSync(flags['mesh-config-file'], 'utf8');
      } catch (err) {
        console.error(
          `mizzen kube-inject: cannot read ${flags['mesh-config-file']}: ${(err as Error).message}`,
        );
        return 1;
      }
    const merge = meshPrometheusMerge(meshText);
    const r = injectManifests(text, file, {
      image: flags.image ?? defaultImage(),
      discoveryAddress: flags['discovery-address'] ?? defaultDiscoveryAddress(),
      enablePrometheusMerge: () => merge,
    });
    for (const d of sortDiagnostics(r.diagnostics)) console.error(formatDiagnostic(d));
    if (r.text === null) {
      console.error('mizzen kube-inject: nothing was injected (fix the errors above)');
      return 1;
    }
    for (const s of r.skipped) console.error(`mizzen kube-inject: not injected: ${s}`);
    if (flags.output) writeFileSync(flags.output, r.text);
    else process.stdout.write(r.text);
    return 0;
  },
});
