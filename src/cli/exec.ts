// `mizzen exec NAME -- CMD…`: run a command as if inside a pod (its HTTP_PROXY is the pod's sidecar), like `kubectl exec`.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { defineCommand } from './command.js';
import { identityEnv } from '../local/pod-env.js';
import { findPods, liveState } from '../local/run-state.js';
import { inNetns } from '../local/pod-network.js';
import { IN_MESH_NS_ENV } from '../local/rootless.js';

const HELP = `usage: mizzen exec NAME [-n NS] [--run-dir PATH] -- CMD [ARGS…]

Runs CMD here with the identity of pod NAME (a pod, a Deployment or an app label; the first pod when
there are several): HTTP_PROXY/http_proxy=http://<pod IP>:15001, POD_NAME, HOSTNAME, POD_NAMESPACE,
SERVICE_ACCOUNT, INSTANCE_IP. Its outbound HTTP goes through that pod's sidecar, so
  mizzen exec sleep -- curl -s http://httpbin:8000/headers
behaves as \`kubectl exec\` into the sleep pod would. Exits with CMD's exit code.`;

export default defineCommand({
  name: 'exec',
  summary: "run a command with a pod's identity, its outbound HTTP through that pod's sidecar",
  help: HELP,
  runDir: true,
  meshNetwork: true,
  flags: { namespace: { type: 'string', short: 'n' } },
  args: { min: 1, max: 1, expected: 'one NAME before --' },
  afterDashDash: 'CMD [ARGS…]',
  async run({ flags: values, args: positionals, rest: cmd, paths }) {
    const live = liveState(paths);
    if ('error' in live) {
      console.error(`mizzen exec: ${live.error}`);
      return 1;
    }
    const pod = findPods(live.state, positionals[0], values.namespace)[0];
    if (!pod) {
      console.error(`mizzen exec: no pod or workload named "${positionals[0]}"`);
      return 1;
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...identityEnv(pod, pod) };
    // Inside a pod nothing bypasses the sidecar; a NO_PROXY from the user's shell would.
    delete env['NO_PROXY'];
    delete env['no_proxy'];
    delete env[IN_MESH_NS_ENV];
    // Pod network mode: run inside the pod's namespace, where capture replaces HTTP_PROXY.
    if (pod.netns) for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy']) delete env[k];
    const run = pod.netns ? inNetns(pod.netns, cmd) : cmd;
    return new Promise<number>((resolve) => {
      const child = spawn(run[0], run.slice(1), { stdio: 'inherit', env });
      // Ctrl-C reaches the command (same terminal process group); we only wait for it.
      const ignore = (): void => {};
      process.on('SIGINT', ignore);
      child.once('error', (err) => {
        process.off('SIGINT', ignore);
        console.error(`mizzen exec: cannot run ${cmd[0]}: ${err.message}`);
        resolve(127);
      });
      child.once('exit', (code, signal) => {
        process.off('SIGINT', ignore);
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1));
      });
    });
  },
});
