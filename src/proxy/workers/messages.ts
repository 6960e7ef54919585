// The IPC messages between the `--concurrency` primary and its proxy workers (node:cluster channel, JSON).
import type { AdminReply } from '../admin/admin-reply.js';
import type { ProxyPorts } from '../ready-file.js';
import type { StatsSnapshot } from '../stats/stats-merge.js';

/** Primary → worker: answer an admin request as if it came to your own admin port. */
export interface AdminRequestMsg {
  t: 'admin';
  /** Matches the reply to the request. */
  id: number;
  method: string;
  url: string;
}

/** Primary → worker: send a snapshot of your stats. */
export interface StatsRequestMsg {
  t: 'stats';
  id: number;
}

/** What the primary sends (it stops a worker with SIGTERM, not a message). */
export type ToWorker = AdminRequestMsg | StatsRequestMsg;

/** Worker → primary: the proxy started (static config applied, listeners bound). */
export interface StartedMsg {
  t: 'started';
  /** Where admin should listen, from the flags or the bootstrap (the primary binds it). */
  admin: { address: string; port: number };
}

/** Worker → primary: LIVE, or the listeners changed (what a single proxy writes to its ready file). */
export interface PortsMsg {
  t: 'ports';
  ports: ProxyPorts;
}

/** Worker → primary: the answer to an {@link AdminRequestMsg} (without its `after` hook). */
export interface AdminReplyMsg {
  t: 'admin';
  id: number;
  reply: Omit<AdminReply, 'after'>;
}

/** Worker → primary: the answer to a {@link StatsRequestMsg}. */
export interface StatsReplyMsg {
  t: 'stats';
  id: number;
  snap: StatsSnapshot;
}

/** What a worker sends. */
export type FromWorker = StartedMsg | PortsMsg | AdminReplyMsg | StatsReplyMsg;

/** Environment variable that marks a forked process as worker number N (0-based) of a `--concurrency` proxy. */
export const WORKER_ENV = 'MIZZEN_PROXY_WORKER';
