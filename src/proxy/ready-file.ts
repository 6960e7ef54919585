// The ready file (`--ready-file`): the proxy's bound ports and state, written atomically once LIVE.
import { renameSync, writeFileSync } from 'node:fs';
import type { ServerState } from './admin/admin-context.js';

/** Bound addresses: admin port and each listener's real `ip:port` (what the ready file holds). */
export interface ProxyPorts {
  /** Admin port (0 in a `--concurrency` worker, which serves no admin). */
  adminPort: number;
  /** Admin `ip:port`. */
  admin: string;
  /** Listener name → bound `ip:port` (listeners that bind a socket). */
  listeners: Record<string, string>;
  state: ServerState;
}

/** Writes the ready file atomically (a reader never sees half of it). */
export function writeReadyFile(file: string, ports: ProxyPorts): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(ports, null, 2) + '\n');
  renameSync(tmp, file);
}
