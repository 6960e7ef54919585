// Running totals of config events by kind and event, read by istiod's pilot_k8s_cfg_events counter.
import type { ConfigEvent } from './store.js';

/** Istio's event label values (pilot/pkg/config/kube/crdclient: "add", "update", "delete"). */
export type ConfigEventName = 'add' | 'update' | 'delete';

const EVENT_NAMES: Record<ConfigEvent['type'], ConfigEventName> = {
  added: 'add',
  updated: 'update',
  deleted: 'delete',
};

/** One series of pilot_k8s_cfg_events: `type` is the kind (e.g. `VirtualService`). */
export interface ConfigEventCount {
  readonly type: string;
  readonly event: ConfigEventName;
  readonly count: number;
}

/** Counts every effective config event a store published, including the adds of its first load. */
export class ConfigEventCounts {
  private readonly counts = new Map<string, { type: string; event: ConfigEventName; count: number }>();

  /** Adds one to the series of each event. */
  record(events: readonly ConfigEvent[]): void {
    for (const e of events) {
      const type = e.type === 'deleted' ? e.previous.kind : e.resource.kind;
      const event = EVENT_NAMES[e.type];
      const key = `${type}\u0000${event}`;
      const c = this.counts.get(key);
      if (c) c.count++;
      else this.counts.set(key, { type, event, count: 1 });
    }
  }

  /** Every series with its total so far. */
  totals(): readonly ConfigEventCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}
