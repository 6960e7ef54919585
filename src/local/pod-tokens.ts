// Pod identity tokens for `mizzen up`: what the kubelet's projected service-account token is to a pod
// on Kubernetes. Each sidecar (and the gateway) gets a token file naming its namespace, service account
// and pod, signed with the key in the run's CA directory, which the control plane verifies.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLocalTokenKey, issueLocalToken } from '../ca/token.js';

/** The CA directory of a run (the self-signed root, or plugged cacerts, and the token key). */
export function caDirOf(runRoot: string): string {
  return join(runRoot, 'ca');
}

/** Writes a token for the pod and returns the file's path. */
export async function writePodToken(
  runRoot: string,
  pod: { readonly name: string; readonly namespace: string; readonly serviceAccount: string },
): Promise<string> {
  const key = ensureLocalTokenKey(caDirOf(runRoot));
  const dir = join(runRoot, 'tokens');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${pod.namespace}.${pod.name}.jwt`);
  const token = await issueLocalToken(key, {
    namespace: pod.namespace,
    serviceAccount: pod.serviceAccount,
    pod: pod.name,
  });
  writeFileSync(file, token, { mode: 0o600 });
  return file;
}
