// Test helper: a real single-member etcd (Debian's etcd-server) on free loopback ports in a temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running etcd child process. */
export interface EtcdProcess {
  /** Client URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Data directory (kept across {@link restart}). */
  readonly dataDir: string;
  /** Kills etcd (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data directory; resolves once it serves. */
  restart(): Promise<void>;
  /** Stops etcd and removes its data directory. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts etcd on two free loopback ports (client, peer) in a fresh temp dir. */
export async function startEtcd(): Promise<EtcdProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'mizzen-etcd-'));
  const dataDir = join(dir, 'data');
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'mizzen-test',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `mizzen-test=${peer}`,
    '--log-level',
    'warn',
  ];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const launch = async (): Promise<void> => {
    const c = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    exited = new Promise((r) => c.once('exit', () => r()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`etcd exited (${c.exitCode}): ${err}`);
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`etcd did not become healthy within 20 s: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    dataDir,
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
