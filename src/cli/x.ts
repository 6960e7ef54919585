// `mizzen x`: experimental commands, as istioctl's `x`: `x authz check POD`, `x explain SOURCE URL`.
import { defineCommand, UsageError } from './command.js';
import { getJson, resolveAdmin } from './proxy-config.js';
import { listenersOf } from './proxy-config/format.js';
import { formatAuthzCheck } from './authz/authz-check.js';
import { explainCommand } from './explain.js';

const HELP = `usage: mizzen x authz check POD [--run-dir PATH] [--admin HOST:PORT]
       mizzen x explain|describe SOURCE URL [-X METHOD] [-H 'name: value']... [-o json]
                 [--run-dir PATH] [--server HOST:PORT]

x authz check prints the AuthorizationPolicies a proxy enforces (ACTION, policy, number of rules) and
each effective rule, read from the Envoy RBAC filters in its admin /config_dump, as istioctl x authz
check does. POD is a pod name, a workload or app name (its first pod) or istio-ingressgateway; --admin
names a proxy's admin address directly.

x explain (x describe is the same) answers "where does this request go, and why?": for a request that
the workload SOURCE (a pod, workload or app name, or istio-ingressgateway) sends to URL, it prints the
listener, the routes tried in order with why each earlier one did not match, the VirtualService rule
that matched (file:line:col), its cluster(s) with subset, weight, TLS and endpoints, and the timeout,
retries, fault and mirror that apply. It is computed by the control plane (/debug/explain) from the
very config it pushes to SOURCE, with the proxy's own route matcher. Example:
  mizzen x explain productpage http://reviews:9080/reviews/0 -H 'end-user: jason'`;

export default defineCommand({
  name: 'x',
  summary: 'experimental commands: x authz check POD, x explain SOURCE URL',
  help: HELP,
  runDir: true,
  meshNetwork: true,
  flags: {
    admin: { type: 'string' },
    server: { type: 'string' },
    request: { type: 'string', short: 'X' },
    header: { type: 'string', short: 'H', multiple: true },
    output: { type: 'string', short: 'o' },
  },
  args: { min: 1, max: 3, expected: 'authz check POD, or explain SOURCE URL' },
  async run({ flags, args, paths }) {
    if (args[0] === 'explain' || args[0] === 'describe') {
      if (args.length !== 3) throw new UsageError(`expected ${args[0]} SOURCE URL`);
      if (flags.output && flags.output !== 'json') throw new UsageError('-o must be json');
      return explainCommand(paths, args[1], args[2], {
        method: flags.request ?? 'GET',
        headers: flags.header ?? [],
        json: flags.output === 'json',
        ...(flags.server ? { server: flags.server } : {}),
      });
    }
    if (args[0] !== 'authz' || args[1] !== 'check')
      throw new UsageError('the experimental commands are: x authz check POD, x explain SOURCE URL');
    const pod = args[2];
    if (!pod && !flags.admin) throw new UsageError('name a pod (or --admin HOST:PORT)');
    let admin = flags.admin;
    if (!admin) {
      const r = resolveAdmin(paths, pod);
      if ('error' in r) {
        console.error(`mizzen x authz check: ${r.error}`);
        return 1;
      }
      admin = r.admin;
    }
    try {
      const dump = await getJson(`http://${admin}/config_dump`);
      console.log(formatAuthzCheck(listenersOf(dump)));
      return 0;
    } catch (err) {
      console.error(`mizzen x authz check: ${(err as Error).message}; is the mesh up (mizzen status)?`);
      return 1;
    }
  },
});
