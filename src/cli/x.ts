// `mizzen x`: experimental commands, as istioctl's `x`; today `x authz check POD`.
import { defineCommand, UsageError } from './command.js';
import { getJson, resolveAdmin } from './proxy-config.js';
import { listenersOf } from './proxy-config/format.js';
import { formatAuthzCheck } from './authz/authz-check.js';

const HELP = `usage: mizzen x authz check POD [--run-dir PATH] [--admin HOST:PORT]

Prints the AuthorizationPolicies a proxy enforces (ACTION, policy, number of rules) and each effective
rule, read from the Envoy RBAC filters in its admin /config_dump, as istioctl x authz check does. POD is
a pod name, a workload or app name (its first pod) or istio-ingressgateway; --admin names a proxy's admin
address directly.`;

export default defineCommand({
  name: 'x',
  summary: 'experimental commands: x authz check POD',
  help: HELP,
  runDir: true,
  flags: { admin: { type: 'string' } },
  args: { min: 2, max: 3, expected: 'authz check POD' },
  async run({ flags, args, paths }) {
    if (args[0] !== 'authz' || args[1] !== 'check')
      throw new UsageError('the only experimental command is: x authz check POD');
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
