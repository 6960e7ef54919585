// Outbound NAT for a pod network, as Docker's and kind's bridge networks give containers: the node
// namespace routes through the root namespace's veth, and the root namespace forwards the mesh
// subnet out of this machine with its own address (MASQUERADE). So pods reach what this host reaches
// (the DNS upstreams, external services behind ServiceEntries). Every rule carries the run's prefix as
// its comment and is removed by it; IP forwarding is switched back off when the last run is gone, if
// a run switched it on.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { MeshNetwork } from './pod-network.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** Left by the run that switched forwarding on (the value it found), so the last teardown restores it. */
const FORWARD_MARK = '/run/mizzen-ip-forward-was-off';
/** Every run's rules share this comment prefix (pod-network.ts names runs `mizzen-<id>-`). */
const RUN_PREFIX = 'mizzen-';

function run(argv: readonly string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim().split('\n')[0];
}

/** The iptables rules of one run, in the root namespace (`-A` form, table first). */
export function egressRules(net: MeshNetwork): (readonly string[])[] {
  const c = ['-m', 'comment', '--comment', net.prefix];
  return [
    ['nat', '-A', 'POSTROUTING', '-s', net.subnet, '!', '-d', net.subnet, ...c, '-j', 'MASQUERADE'],
    ['filter', '-A', 'FORWARD', '-s', net.subnet, ...c, '-j', 'ACCEPT'],
    [
      'filter',
      '-A',
      'FORWARD',
      '-d',
      net.subnet,
      '-m',
      'conntrack',
      '--ctstate',
      'RELATED,ESTABLISHED',
      ...c,
      '-j',
      'ACCEPT',
    ],
  ];
}

/**
 * Routes the node namespace (and through it the pods) out via the root namespace with NAT. Returns a
 * line for `up` to print: what pods can reach, or why they cannot reach beyond this host.
 */
export function enableEgress(net: MeshNetwork): string {
  try {
    run(['ip', '-n', net.nodeNs, 'route', 'replace', 'default', 'via', net.hostIp]);
    run(['ip', 'netns', 'exec', net.nodeNs, 'sh', '-c', `echo 1 > ${IP_FORWARD}`]);
  } catch (e) {
    return `pods reach only the mesh (node namespace routing: ${firstLine(e)})`;
  }
  try {
    for (const [table, ...rule] of egressRules(net)) {
      // FORWARD rules go first, ahead of a DROP policy's rules (Docker's, firewalls'); NAT is appended.
      const args = table === 'filter' ? ['-I', ...rule.slice(1)] : rule;
      run(['iptables', '-w', '-t', table, ...args]);
    }
    if (readFileSync(IP_FORWARD, 'utf8').trim() !== '1') {
      writeFileSync(FORWARD_MARK, '0\n');
      writeFileSync(IP_FORWARD, '1\n');
    }
  } catch (e) {
    removeEgress(net.prefix);
    return `pods reach this host but nothing beyond it (outbound NAT: ${firstLine(e)})`;
  }
  return `pods reach what this host reaches (outbound NAT of ${net.subnet})`;
}

/** Removes a run's rules (also those a crashed run left); restores IP forwarding after the last run. */
export function removeEgress(prefix: string): void {
  let saved: string;
  try {
    saved = run(['iptables-save']);
  } catch {
    return; // no iptables in the root namespace: nothing was added
  }
  let table = '';
  let others = false;
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const m = /--comment "?(\S+?)"? /.exec(line);
    if (!line.startsWith('-A ') || !m || !m[1].startsWith(RUN_PREFIX)) continue;
    if (m[1] !== prefix) {
      others = true;
      continue;
    }
    try {
      run(['iptables', '-w', '-t', table, '-D', ...splitRule(line.slice(3))]);
    } catch {
      // gone meanwhile
    }
  }
  if (!others && existsSync(FORWARD_MARK)) {
    try {
      writeFileSync(IP_FORWARD, '0\n');
    } finally {
      rmSync(FORWARD_MARK, { force: true });
    }
  }
}

/** An iptables-save rule's words (quoted words, as comments may be, kept whole). */
function splitRule(rule: string): string[] {
  const out: string[] = [];
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] ?? m[2]);
  return out;
}
