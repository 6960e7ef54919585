// Reads the control plane's /debug/syncz and says per proxy: SYNCED, STALE or NOT CONNECTED (like istioctl proxy-status).
import { httpGet } from './readiness.js';

/** Sync state of one proxy. */
export type SyncState = 'SYNCED' | 'STALE' | 'NOT CONNECTED';

/** One proxy as /debug/syncz reports it (fields Mizzen's ADS server sends). */
interface SynczEntry {
  id?: string;
  types?: Record<string, { sent?: string; acked?: string }>;
}

/** Every type's last sent version ACKed → SYNCED; anything sent but not (yet) ACKed, or NACKed → STALE. */
export function classify(entry: SynczEntry): SyncState {
  const types = Object.values(entry.types ?? {});
  return types.every((t) => (t.sent ?? '') === (t.acked ?? '')) ? 'SYNCED' : 'STALE';
}

/** Node id → sync state for every connected proxy; undefined when the control plane does not answer. */
export async function fetchSyncz(debugAddress: string): Promise<Map<string, SyncState> | undefined> {
  const r = await httpGet(`http://${debugAddress}/debug/syncz`, 2000);
  if (r.status !== 200) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    return undefined;
  }
  const list = Array.isArray(body) ? (body as SynczEntry[]) : [];
  const out = new Map<string, SyncState>();
  for (const e of list) {
    if (typeof e?.id !== 'string') continue;
    // A proxy that reconnected has two streams for a moment; a synced one wins.
    const s = classify(e);
    if (out.get(e.id) !== 'SYNCED') out.set(e.id, s);
  }
  return out;
}

/** The state of one node id (NOT CONNECTED when absent). */
export function syncStateOf(
  states: Map<string, SyncState> | undefined,
  nodeId: string,
): SyncState | 'UNKNOWN' {
  if (!states) return 'UNKNOWN';
  return states.get(nodeId) ?? 'NOT CONNECTED';
}
